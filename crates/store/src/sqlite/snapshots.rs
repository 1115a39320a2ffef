//! Test mode's snapshots on SQLite: each is a copy of the database file, in a folder beside
//! it (`roster.db.snapshots/NAME.db`), written and read back with SQLite's online backup,
//! page by page, on the writer's connection while no transaction is open: restoring is one
//! write that readers see all at once.

use crate::errors::map;
use roster_domain::test_mode::SnapshotName;
use roster_domain::{Error, ErrorKind, Result};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, DatabaseName, OpenFlags};
use std::path::{Path, PathBuf};

/// The folder the snapshots of the database at `file` go to.
pub(super) fn folder_of(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(".snapshots");
    file.with_file_name(name)
}

fn file_of(folder: &Path, name: &SnapshotName) -> PathBuf {
    folder.join(format!("{name}.db"))
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> Error {
    Error::with_detail(ErrorKind::Unavailable, format!("{what}: {e}"))
}

/// Copies the database `conn` is open on to snapshot `name` (written beside and renamed into
/// place, so a snapshot is whole or absent).
pub(super) fn take(conn: &Connection, folder: &Path, name: &SnapshotName) -> Result<()> {
    std::fs::create_dir_all(folder).map_err(|e| unavailable("creating the snapshot folder", e))?;
    let target = file_of(folder, name);
    let partial = target.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    let mut copy = Connection::open(&partial).map_err(|e| unavailable("writing a snapshot", e))?;
    copy_all(conn, &mut copy)?;
    drop(copy);
    std::fs::rename(&partial, &target).map_err(|e| unavailable("writing a snapshot", e))
}

/// Puts the database `conn` is open on back as snapshot `name` holds it.
pub(super) fn restore(conn: &mut Connection, folder: &Path, name: &SnapshotName) -> Result<()> {
    let source = file_of(folder, name);
    if !source.exists() {
        return Err(Error::with_detail(
            ErrorKind::SnapshotNotFound,
            format!("no snapshot '{name}' was taken."),
        ));
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let snapshot = Connection::open_with_flags(&source, flags)
        .map_err(|e| unavailable("reading a snapshot", e))?;
    copy_all(&snapshot, conn)
}

/// Every page of `from`'s main database into `to`'s, in one step (one write transaction on
/// `to`).
fn copy_all(from: &Connection, to: &mut Connection) -> Result<()> {
    let backup = Backup::new_with_names(from, DatabaseName::Main, to, DatabaseName::Main)
        .map_err(map_sqlite)?;
    match backup.step(-1).map_err(map_sqlite)? {
        StepResult::Done => Ok(()),
        other => Err(Error::with_detail(
            ErrorKind::Unavailable,
            format!("copying the database stopped: {other:?}"),
        )),
    }
}

fn map_sqlite(e: rusqlite::Error) -> Error {
    map(super::statements::to_db_error(e))
}

/// Removes snapshot `name`'s file (a restore reading it meanwhile keeps its open copy).
pub(super) fn delete(folder: &Path, name: &SnapshotName) -> Result<()> {
    match std::fs::remove_file(file_of(folder, name)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::with_detail(
            ErrorKind::SnapshotNotFound,
            format!("no snapshot '{name}' was taken."),
        )),
        Err(e) => Err(unavailable("deleting a snapshot", e)),
    }
}

/// The names of the snapshots in `folder`.
pub(super) fn names(folder: &Path) -> Result<Vec<String>> {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Ok(Vec::new());
    };
    let mut names: Vec<String> = entries
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            (path.extension()? == "db").then(|| path.file_stem()?.to_str().map(str::to_owned))?
        })
        .collect();
    names.sort();
    Ok(names)
}
