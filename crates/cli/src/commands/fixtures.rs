//! `roster fixtures apply|export|schema` (a Roster extension for test suites): a tenant's
//! starting state in one YAML or JSON file. Reading a file (and naming the line of what is
//! wrong in it) is here; applying and exporting are the service's.

use super::{open_database, open_for_command, operator_error};
use crate::config::{Argon2Settings, DatabaseArgs, Settings};
use anyhow::{Context, Result};
use clap::Subcommand;
use roster_domain::fixtures::Fixtures;
use roster_domain::password_policy::PasswordPolicy;
use roster_service::{Caller, FixturesApplied, Service};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum FixturesCommand {
    /// Apply a fixtures file (YAML or JSON) to the database, creating it if needed, in one
    /// transaction: missing entries are created, differing ones changed, the rest left as they
    /// are (applying a file twice changes nothing). Prints {"created", "updated", "unchanged"}.
    Apply {
        #[command(flatten)]
        db: DatabaseArgs,
        /// The fixtures file.
        file: PathBuf,
        #[command(flatten)]
        argon2: Argon2Settings,
    },
    /// Write the database's state as a fixtures file (YAML; --json for JSON) to standard
    /// output. Passwords and client secrets are not exported: Roster keeps only digests.
    Export {
        #[command(flatten)]
        db: DatabaseArgs,
        /// JSON instead of YAML.
        #[arg(long)]
        json: bool,
    },
    /// Print the JSON Schema of fixtures files, for editors to check and complete them.
    Schema,
}

pub async fn run(command: FixturesCommand) -> Result<()> {
    match command {
        FixturesCommand::Apply { db, file, argon2 } => {
            let flags = Settings {
                argon2,
                ..Default::default()
            };
            let settings = db.settings(flags)?.service()?;
            let fixtures = read(&file, &settings.password_policy)?;
            let (store, service) = open_database(&db, settings, true).await?;
            let applied = apply(&service, &file, fixtures).await;
            store.close().await;
            println!("{}", serde_json::to_string(&applied?)?);
            Ok(())
        }
        FixturesCommand::Export { db, json } => {
            let (store, service) = open_for_command(&db, Default::default()).await?;
            let exported = service.export_fixtures(&Caller::operator()).await;
            store.close().await;
            let fixtures = exported.map_err(operator_error)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&fixtures)?);
            } else {
                print!("{}", serde_yaml_ng::to_string(&fixtures)?);
            }
            Ok(())
        }
        FixturesCommand::Schema => {
            println!("{}", serde_json::to_string_pretty(&schema())?);
            Ok(())
        }
    }
}

/// Reads a fixtures file — YAML, or JSON (which YAML reads too) — and checks every entry that
/// needs no database against the rules (`base_policy`: the configured password policy), so
/// that a bad file is refused before a database is opened or made: with the file's name, the
/// line and the field.
pub fn read(path: &Path, base_policy: &PasswordPolicy) -> Result<Fixtures> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the fixtures file {}", path.display()))?;
    let fixtures = serde_yaml_ng::from_str::<Fixtures>(&text)
        .map_err(|e| anyhow::anyhow!("fixtures file {}: {e}", path.display()))?;
    if let Err(e) = fixtures.clone().check(base_policy) {
        return Err(located(path, &text, &e));
    }
    Ok(fixtures)
}

/// An entry's error with the file's name and, where it can be found, the entry's line.
fn located(path: &Path, text: &str, e: &roster_domain::Error) -> anyhow::Error {
    let detail = e.detail().unwrap_or(e.kind().message());
    let at = line_of_entry(text, detail)
        .map(|line| format!(", line {line}"))
        .unwrap_or_default();
    anyhow::anyhow!(
        "fixtures file {}{at}: {detail} ({})",
        path.display(),
        e.kind().code()
    )
}

/// Applies `fixtures` read from `path`; an entry's error names the file and, where it can be
/// found, the entry's line.
pub async fn apply(service: &Service, path: &Path, fixtures: Fixtures) -> Result<FixturesApplied> {
    service
        .apply_fixtures(&Caller::operator(), fixtures)
        .await
        .map_err(|e| located(path, &std::fs::read_to_string(path).unwrap_or_default(), &e))
}

/// The line where the entry an error names begins (`users[2] (ann): …` → the line that names
/// `ann` after the `users` key), in YAML or JSON written one field a line.
fn line_of_entry(text: &str, detail: &str) -> Option<usize> {
    let (section, rest) = detail.split_once('[')?;
    let key = rest.split_once(" (")?.1.split_once(')')?.0;
    let mut lines = text.lines().enumerate();
    lines
        .by_ref()
        .find(|(_, l)| l.trim_start().trim_start_matches('"').starts_with(section))?;
    lines
        .find(|(_, l)| {
            l.split(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == ',' || c == ':')
                .any(|word| word == key)
        })
        .map(|(i, _)| i + 1)
}

/// The fixtures file's JSON Schema (2020-12), built from the types that read it (the
/// sign-in settings and policies as the API's own bodies).
pub fn schema() -> serde_json::Value {
    use utoipa::openapi::{RefOr, Schema};
    use utoipa::{PartialSchema, ToSchema};
    let mut parts: Vec<(String, RefOr<Schema>)> = Vec::new();
    Fixtures::schemas(&mut parts);
    let mut defs = serde_json::Map::new();
    for (name, part) in parts {
        defs.insert(name, serde_json::to_value(part).unwrap_or_default());
    }
    let mut root = serde_json::to_value(Fixtures::schema()).unwrap_or_default();
    if let Some(fields) = root.as_object_mut() {
        fields.insert(
            "$schema".into(),
            "https://json-schema.org/draft/2020-12/schema".into(),
        );
        fields.insert("title".into(), "Roster fixtures".into());
        fields.insert("$defs".into(), serde_json::Value::Object(defs));
    }
    let text = root
        .to_string()
        .replace("#/components/schemas/", "#/$defs/");
    serde_json::from_str(&text).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_found_by_its_key_after_its_section() {
        let yaml = "users:\n  - user_name: bob\n    mobile: '1'\n  - user_name: ann\n    mobile: x\napplications:\n  - client_id: ann\n";
        assert_eq!(line_of_entry(yaml, "users[1] (ann): mobile: bad"), Some(4));
        assert_eq!(line_of_entry(yaml, "applications[0] (ann): name"), Some(7));
        assert_eq!(line_of_entry(yaml, "tenant_name: too long"), None);
    }

    #[test]
    fn the_schema_describes_every_section_and_resolves_its_references() {
        let schema = schema();
        let text = schema.to_string();
        for section in [
            "organizations",
            "users",
            "applications",
            "password_policy",
            "mfa_policy",
        ] {
            assert!(schema["properties"].get(section).is_some(), "{section}");
        }
        assert!(!text.contains("#/components/"));
        for name in ["FixtureUser", "FixtureApplication", "SsoFields"] {
            assert!(schema["$defs"].get(name).is_some(), "{name}: {text}");
        }
    }
}
