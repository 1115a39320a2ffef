//! `roster keys …` (the RSA keys that sign id_tokens) and `roster rotate-secret-key` (the key
//! that seals secrets).

use super::{open_for_command, operator_error, print_json};
use crate::config::{self, DatabaseArgs, KeyFile};
use anyhow::{Context, Result};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// List the signing keys, newest first: {"keys": [{"kid","created_at","retired_at",
    /// "active","staged","published"}]}.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Stage a new signing key: published at once (the JWKS, the SAML metadata) but not
    /// signing until the next `rotate`, so that applications that fetch keys now and then
    /// have it before it signs. Replaces a key staged before. Needs the secret key, as
    /// `rotate`. Prints {"kid"}.
    Stage {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Make the staged key (if one is; else a new one) the signing key. Running servers sign
    /// with it as soon as it is committed
    /// on PostgreSQL (they hear of it), within 10 seconds on SQLite; the previous one stays in
    /// the key set until the tokens it signed have expired (a day), so tokens of either
    /// verify. Needs the secret key
    /// (ROSTER_SECRET_KEY, or the key file beside an embedded database). Prints {"kid"}.
    Rotate {
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

pub async fn run(command: KeysCommand) -> Result<()> {
    let operator = roster_service::Caller::operator();
    match command {
        KeysCommand::List { db } => {
            let (store, service) =
                open_for_command(&db, roster_service::Settings::default()).await?;
            let listed = service.signing_keys(&operator).await;
            store.close().await;
            let now = roster_domain::time::now_millis();
            let keys: Vec<serde_json::Value> = listed
                .map_err(operator_error)?
                .iter()
                .map(|k| {
                    serde_json::json!({
                        "kid": k.kid(),
                        "created_at": roster_domain::time::format_millis(k.created_at),
                        "retired_at": k.retired_at.map(roster_domain::time::format_millis),
                        "active": k.is_active(),
                        "staged": k.is_staged(),
                        "published": k.is_published(now),
                    })
                })
                .collect();
            print_json(&serde_json::json!({ "keys": keys }))
        }
        KeysCommand::Rotate { db } => change_keys(db, false).await,
        KeysCommand::Stage { db } => change_keys(db, true).await,
    }
}

/// `keys rotate` (or, `staging`, `keys stage`) with the servers' secret key.
async fn change_keys(db: DatabaseArgs, staging: bool) -> Result<()> {
    let operator = roster_service::Caller::operator();
    let configured = db.file_settings()?;
    let url = configured.database_url();
    let found = config::secret_key(configured.secret_key.as_ref(), &url, KeyFile::Existing)?;
    let Some((key_hex, _)) = found else {
        anyhow::bail!(
            "set ROSTER_SECRET_KEY (or ROSTER_SECRET_KEY_FILE), the key the servers \
             use: signing keys are sealed with it"
        );
    };
    let settings = roster_service::Settings {
        secret_key: Some(
            roster_service::SecretKey::from_hex(&key_hex)
                .map_err(operator_error)
                .context("the secret key")?,
        ),
        ..roster_service::Settings::default()
    };
    let (store, service) = open_for_command(&db, settings).await?;
    if let Err(e) = service.check_secret_key().await {
        store.close().await;
        return Err(operator_error(e));
    }
    let rotated = if staging {
        service.stage_signing_key(&operator).await
    } else {
        service.rotate_signing_key(&operator).await
    };
    store.close().await;
    let key = rotated.map_err(operator_error)?;
    print_json(&serde_json::json!({ "kid": key.kid() }))
}

pub async fn rotate_secret_key(db: DatabaseArgs) -> Result<()> {
    let read_key = |name: &str| -> Result<(roster_service::SecretKey, String)> {
        let secret = config::secret_from_env(name)?
            .with_context(|| format!("set {name} (or {name}_FILE)"))?;
        let hex = secret.expose().trim().to_owned();
        let key = roster_service::SecretKey::from_hex(&hex)
            .map_err(operator_error)
            .with_context(|| name.to_owned())?;
        Ok((key, hex))
    };
    let (old, old_hex) = read_key("ROSTER_SECRET_KEY_OLD")?;
    let (new, new_hex) = read_key("ROSTER_SECRET_KEY")?;
    let (store, service) = open_for_command(&db, roster_service::Settings::default()).await?;
    let resealed = service.reseal_account_passwords(&old, &new).await;
    store.close().await;
    let resealed = resealed.map_err(operator_error)?;
    // An embedded database's server reads its key from roster.key: when that file holds the
    // old key, it now holds the new one, the old one kept beside it as roster.key.old.
    let url = db.file_settings()?.database_url();
    let key_file = config::key_file_for(&url)
        .filter(|path| std::fs::read_to_string(path).is_ok_and(|held| held.trim() == old_hex));
    let Some(path) = key_file else {
        return print_json(&serde_json::json!({ "resealed": resealed }));
    };
    // The new key is written whole beside it first, so that a failure leaves one of the two.
    let fresh = path.with_extension("key.new");
    let kept = path.with_extension("key.old");
    config::write_key_file(&fresh, &new_hex)?;
    std::fs::rename(&path, &kept)
        .with_context(|| format!("keeping the old key as {}", kept.display()))?;
    std::fs::rename(&fresh, &path)
        .with_context(|| format!("putting the new key in {}", path.display()))?;
    print_json(&serde_json::json!({
        "resealed": resealed,
        "key_file": path.display().to_string(),
        "old_key_file": kept.display().to_string(),
    }))
}
