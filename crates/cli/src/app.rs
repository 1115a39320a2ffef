//! `roster app …`: the applications (the API's clients), managed by the operator who holds the
//! database. Each prints the JSON document the HTTP extension `/roster/v1/applications` answers.

use crate::config::DatabaseArgs;
use crate::{open_for_command, operator_error, print_json};
use anyhow::Result;
use clap::Subcommand;
use roster_domain::application::ApplicationId;
use roster_domain::permission::Permission;
use roster_http::{ApplicationIdView, ApplicationList, ApplicationView, CredentialsView};
use roster_service::{Caller, Service};

/// Every API permission code, for `--help` and for checking the flag.
fn permission_codes() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(Permission::ALL.iter().map(|p| p.code()))
}

#[derive(Subcommand)]
pub enum AppCommand {
    /// Register an application; prints {"application_id","client_id","client_secret"}.
    /// The secret is shown only this once.
    Create {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Application name, unique among applications.
        #[arg(long)]
        name: String,
        /// API permission; repeat for several.
        #[arg(long = "api-permission", required = true, value_parser = permission_codes())]
        api_permissions: Vec<String>,
    },
    /// List applications, oldest first; prints {"total","applications"}.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Page number, from 0.
        #[arg(long, default_value_t = 0)]
        offset: i64,
        /// Page size, 1 to 100.
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Show one application (never its secret).
    Show {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Application id.
        application_id: ApplicationId,
    },
    /// Disable an application: it gets no tokens, and its tokens stop working.
    Disable {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Application id.
        application_id: ApplicationId,
    },
    /// Enable an application again (its old tokens stay revoked).
    Enable {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Application id.
        application_id: ApplicationId,
    },
    /// Issue a new client secret; the old one and its tokens stop working. Prints the new
    /// credentials, shown only this once.
    RotateSecret {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Application id.
        application_id: ApplicationId,
    },
    /// Replace an application's API permissions; prints the application.
    SetPermissions {
        #[command(flatten)]
        db: DatabaseArgs,
        /// Application id.
        application_id: ApplicationId,
        /// API permission; repeat for several.
        #[arg(long = "api-permission", required = true, value_parser = permission_codes())]
        api_permissions: Vec<String>,
    },
}

impl AppCommand {
    fn db(&self) -> &DatabaseArgs {
        match self {
            Self::Create { db, .. }
            | Self::List { db, .. }
            | Self::Show { db, .. }
            | Self::Disable { db, .. }
            | Self::Enable { db, .. }
            | Self::RotateSecret { db, .. }
            | Self::SetPermissions { db, .. } => db,
        }
    }
}

pub async fn run(command: AppCommand) -> Result<()> {
    let (store, service) =
        open_for_command(command.db(), roster_service::Settings::default()).await?;
    let outcome = execute(&service, command).await;
    store.close().await;
    outcome
}

async fn execute(service: &Service, command: AppCommand) -> Result<()> {
    let operator = Caller::operator();
    match command {
        AppCommand::Create {
            name,
            api_permissions,
            ..
        } => {
            let permissions = api_permissions
                .iter()
                .map(|c| Permission::parse(c))
                .collect::<Result<Vec<_>, _>>()
                .map_err(operator_error)?;
            let created = service
                .create_application(&operator, Some(name), permissions)
                .await
                .map_err(operator_error)?;
            print_json(&CredentialsView::from(created))
        }
        AppCommand::List { offset, limit, .. } => {
            let page = roster_domain::page::PageRequest::new(Some(offset), Some(limit))
                .map_err(operator_error)?;
            let listed = service
                .list_applications(&operator, page)
                .await
                .map_err(operator_error)?;
            print_json(&ApplicationList::from(listed))
        }
        AppCommand::Show { application_id, .. } => {
            let app = service
                .show_application(&operator, application_id)
                .await
                .map_err(operator_error)?;
            print_json(&ApplicationView::from(app))
        }
        AppCommand::Disable { application_id, .. } => {
            set_disabled(service, &operator, application_id, true).await
        }
        AppCommand::Enable { application_id, .. } => {
            set_disabled(service, &operator, application_id, false).await
        }
        AppCommand::RotateSecret { application_id, .. } => {
            let rotated = service
                .rotate_client_secret(&operator, application_id)
                .await
                .map_err(operator_error)?;
            print_json(&CredentialsView::from(rotated))
        }
        AppCommand::SetPermissions {
            application_id,
            api_permissions,
            ..
        } => {
            let app = service
                .set_application_permissions(&operator, application_id, api_permissions)
                .await
                .map_err(operator_error)?;
            print_json(&ApplicationView::from(app))
        }
    }
}

async fn set_disabled(
    service: &Service,
    operator: &Caller,
    application_id: ApplicationId,
    disabled: bool,
) -> Result<()> {
    service
        .set_application_disabled(operator, application_id.clone(), disabled)
        .await
        .map_err(operator_error)?;
    print_json(&ApplicationIdView { application_id })
}
