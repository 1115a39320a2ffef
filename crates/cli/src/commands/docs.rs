//! `roster openapi`, `roster completions` and `roster man`: what `roster` says about itself.

use super::print_text;
use anyhow::{Context, Result};
use clap::CommandFactory;

pub fn openapi() -> Result<()> {
    let document = roster_http::openapi()
        .to_pretty_json()
        .context("serializing the OpenAPI document")?;
    print_text(&document)
}

/// The shell completion script of `shell`.
pub fn completions(shell: clap_complete::Shell) -> Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut crate::Cli::command(), "roster", &mut script);
    print_text(String::from_utf8_lossy(&script).trim_end())
}

/// The manual page (roff), whole: every command with its options (one page, so it names no
/// pages that are not shipped), the environment and the files.
pub fn man() -> Result<()> {
    let mut page = Vec::new();
    render_man(&mut page).context("rendering the manual page")?;
    print_text(String::from_utf8_lossy(&page).trim_end())
}

fn render_man(page: &mut Vec<u8>) -> std::io::Result<()> {
    use std::io::Write;
    let root = crate::Cli::command();
    let man = clap_mangen::Man::new(root.clone());
    man.render_title(page)?;
    man.render_name_section(page)?;
    man.render_synopsis_section(page)?;
    man.render_description_section(page)?;
    writeln!(page, ".SH COMMANDS")?;
    let mut env = std::collections::BTreeMap::new();
    for (path, command) in leaves(&root, "roster") {
        let mut section = Vec::new();
        let named = command
            .clone()
            .bin_name(path.clone())
            .display_name(path.clone());
        let man = clap_mangen::Man::new(named);
        man.render_synopsis_section(&mut section)?;
        man.render_description_section(&mut section)?;
        if command.get_arguments().any(|a| !a.is_hide_set()) {
            man.render_options_section(&mut section)?;
        }
        man.render_extra_section(&mut section)?;
        let text = String::from_utf8_lossy(&section)
            .replace(".SH SYNOPSIS\n", &format!(".SS \"{path}\"\n"))
            .replace(".SH DESCRIPTION\n", ".PP\n")
            .replace(".SH OPTIONS\n", ".PP\n.B Options\n")
            .replace(".SH EXTRA\n", ".PP\n");
        page.extend_from_slice(text.as_bytes());
        for arg in command.get_arguments() {
            if let Some(name) = arg.get_env() {
                let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
                env.entry(name.to_string_lossy().into_owned())
                    .or_insert(help);
            }
        }
    }
    for (name, help) in [
        ("ROSTER_SECRET_KEY", "64 hex digits sealing account passwords and signing keys, the same on every node (or ROSTER_SECRET_KEY_FILE, a file holding it); on SQLite generated into roster.key beside the database if unset; required on PostgreSQL."),
        ("ROSTER_SECRET_KEY_OLD", "rotate-secret-key: the key the secrets are sealed with now (or ROSTER_SECRET_KEY_OLD_FILE)."),
        ("ROSTER_BOOTSTRAP_CLIENT_SECRET", "The secret of the --bootstrap-client-id application (or ROSTER_BOOTSTRAP_CLIENT_SECRET_FILE)."),
        ("ROSTER_METRICS_TOKEN", "The bearer token /metrics asks for (or ROSTER_METRICS_TOKEN_FILE); unset, /metrics is open."),
        ("ROSTER_CONFIG", "The TOML configuration file (as --config)."),
        ("ROSTER_LOG", "The log filter, e.g. info, or roster=debug (default info)."),
    ] {
        env.insert(name.to_owned(), help.to_owned());
    }
    writeln!(page, ".SH ENVIRONMENT")?;
    for (name, help) in env {
        writeln!(page, ".TP\n\\fB{name}\\fR\n{}", roff_text(&help))?;
    }
    writeln!(page, ".SH FILES")?;
    for (file, what) in [
        ("roster.toml", "The configuration file --config (or ROSTER_CONFIG) names: the settings of the flags, by their long names with underscores."),
        ("roster.db", "The embedded (SQLite) database, where --database sqlite://PATH says (default ./roster-data/roster.db)."),
        ("roster.key", "Beside an embedded database: its secret key, made at the first start when ROSTER_SECRET_KEY is unset. Back it up with the database; without it the database's secrets cannot be opened."),
        ("roster.key.old", "The previous key, kept by rotate-secret-key."),
    ] {
        writeln!(page, ".TP\n\\fI{file}\\fR\n{}", roff_text(what))?;
    }
    man.render_version_section(page)?;
    Ok(())
}

/// Every command that runs something, with its full name (`roster app create`).
fn leaves(command: &clap::Command, path: &str) -> Vec<(String, clap::Command)> {
    let subcommands: Vec<&clap::Command> = command
        .get_subcommands()
        .filter(|c| c.get_name() != "help")
        .collect();
    if subcommands.is_empty() {
        return vec![(path.to_owned(), command.clone())];
    }
    subcommands
        .into_iter()
        .flat_map(|sub| leaves(sub, &format!("{path} {}", sub.get_name())))
        .collect()
}

/// Text as roff reads it literally (a leading `.` or `'` would be a request; `\` escapes).
fn roff_text(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}
