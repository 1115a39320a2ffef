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

/// The manual page (roff).
pub fn man() -> Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(crate::Cli::command())
        .render(&mut page)
        .context("rendering the manual page")?;
    print_text(String::from_utf8_lossy(&page).trim_end())
}
