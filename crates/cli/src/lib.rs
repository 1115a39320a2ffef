//! `roster`: the directory server and its admin commands. The binary is a thin `main` over
//! [`run`], so that the benchmark harness can start the very same server. The command tree is
//! here; each command group is a file of `commands/`, the settings are `config.rs`, and what
//! the server does on timers is `jobs.rs`.

mod commands;
pub mod config;
mod jobs;

use clap::{Parser, Subcommand};
use config::DatabaseArgs;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "roster",
    version,
    about = "A self-hosted identity directory that speaks the OneAccess management API"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API server (creating the database if it does not exist yet).
    #[command(
        after_help = "Secrets are read from the environment (or the TOML file), never from flags:\n  \
        ROSTER_SECRET_KEY or ROSTER_SECRET_KEY_FILE    64 hex digits sealing account passwords; \
        on SQLite generated into roster.key beside the database if unset; required on PostgreSQL\n  \
        ROSTER_BOOTSTRAP_CLIENT_SECRET or ROSTER_BOOTSTRAP_CLIENT_SECRET_FILE    secret of the \
        --bootstrap-client-id application\n  \
        ROSTER_METRICS_TOKEN or ROSTER_METRICS_TOKEN_FILE    the bearer token /metrics asks for \
        (unset: /metrics is open)\n\n\
        Settings come from, in rising precedence: defaults, --config FILE (TOML), ROSTER_* \
        variables, flags. ROSTER_LOG sets the log filter (default info)."
    )]
    Serve(Box<commands::serve::ServeArgs>),
    /// Manage applications (the API's clients).
    #[command(subcommand)]
    App(Box<commands::app::AppCommand>),
    /// Print the OpenAPI document of the API (the same one served at /openapi.json).
    Openapi,
    /// Print a shell completion script: `roster completions bash > /etc/bash_completion.d/roster`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `roster man > roster.1; man ./roster.1`.
    Man,
    /// Write the whole directory (applications, organizations, users with password hashes,
    /// application organizations, roles, accounts with sealed passwords, role members) to
    /// standard output as JSON lines, from one snapshot; `roster import all` loads it.
    Export {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Bulk-load data; everything or nothing is written.
    #[command(subcommand)]
    Import(commands::transfer::ImportCommand),
    /// Fixtures for test suites: a tenant's starting state in one YAML or JSON file — apply
    /// it, export the current state as one, print its JSON Schema.
    #[command(subcommand)]
    Fixtures(commands::fixtures::FixturesCommand),
    /// Who may use the web console (/console): grant, revoke and list console roles.
    #[command(subcommand)]
    Admin(commands::admin::AdminCommand),
    /// Read the audit log.
    #[command(subcommand)]
    Audit(commands::audit::AuditCommand),
    /// Read the messages Roster sent (SMS codes): the `log` sender's mailbox.
    #[command(subcommand)]
    Messages(commands::messages::MessagesCommand),
    /// The RSA keys that sign id_tokens (generated at the first start).
    #[command(subcommand)]
    Keys(commands::keys::KeysCommand),
    /// Re-seal every account password and signing key from the key in ROSTER_SECRET_KEY_OLD
    /// (or ROSTER_SECRET_KEY_OLD_FILE) to the one in ROSTER_SECRET_KEY (or
    /// ROSTER_SECRET_KEY_FILE), in one transaction. On an embedded database whose roster.key holds
    /// the old key, that file then holds the new key and roster.key.old the old one. Prints
    /// {"resealed": N} (and "key_file", "old_key_file").
    RotateSecretKey {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Write a consistent copy of an embedded (SQLite) database to FILE while the server
    /// runs; prints {"backup": FILE, "bytes": N}. PostgreSQL: use pg_dump (this says how).
    Backup {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Where the copy goes; it must not exist yet.
        file: std::path::PathBuf,
    },
    /// Count every list's page marks again from the tables, in one transaction: needed only
    /// after rows were changed other than through Roster. Prints {"disagreements": N}, how
    /// many the marks had before.
    Reindex {
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

/// Runs the command line `args` (the first is the program name) to completion.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("roster: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        use commands::*;
        match cli.command {
            Command::Serve(args) => serve::run(*args).await,
            Command::App(command) => app::run(*command).await,
            Command::Openapi => docs::openapi(),
            Command::Completions { shell } => docs::completions(shell),
            Command::Man => docs::man(),
            Command::Import(command) => transfer::import(command).await,
            Command::Export { db } => transfer::export(db).await,
            Command::RotateSecretKey { db } => keys::rotate_secret_key(db).await,
            Command::Keys(command) => keys::run(command).await,
            Command::Admin(command) => admin::run(command).await,
            Command::Fixtures(command) => fixtures::run(command).await,
            Command::Audit(command) => audit::run(command).await,
            Command::Messages(command) => messages::run(command).await,
            Command::Reindex { db } => maintenance::reindex(db).await,
            Command::Backup { db, file } => maintenance::backup(db, file).await,
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("roster: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_tree_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
