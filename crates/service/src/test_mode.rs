//! Test mode (`roster serve --test-mode`, a Roster extension): the use cases of the control
//! API under `/roster/v1/test/` — reset, named snapshots, time travel — each asking for the
//! `all` permission. Faults and the request journal are the HTTP layer's (they are about
//! requests); it asks [`Service::require_test_control`] first.

use crate::{Caller, Service};
use roster_domain::permission::Access;
use roster_domain::test_mode::{ClockFields, ClockMove, ResetTo, SnapshotName};
use roster_domain::time::{Millis, TravelClock};
use roster_domain::{Error, ErrorKind, Result};

/// Where the clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockState {
    pub now: Millis,
    /// How far ahead of real time.
    pub offset_ms: Millis,
}

impl Service {
    /// A service in test mode: its clock can be moved, its control API answers.
    pub fn in_test_mode(&self) -> bool {
        self.inner.travel.is_some()
    }

    /// Refuses unless this server is in test mode and `caller` holds `all`.
    pub fn require_test_control(&self, caller: &Caller) -> Result<&TravelClock> {
        // Outside test mode the routes do not exist; a caller never learns otherwise.
        let travel = self
            .inner
            .travel
            .as_deref()
            .ok_or(Error::new(ErrorKind::RouteNotFound))?;
        caller.require(Access::Admin)?;
        Ok(travel)
    }

    /// The time by the service's clock (moved by time travel), for the request journal.
    pub fn clock_now(&self) -> Millis {
        self.now()
    }

    /// At start, before the fixtures: the state "reset to empty" goes back to.
    pub async fn snapshot_empty(&self) -> Result<()> {
        self.store().take_snapshot(&SnapshotName::empty()).await
    }

    /// At start, after the fixtures: the state a reset goes back to.
    pub async fn snapshot_fixtures(&self) -> Result<()> {
        self.store().take_snapshot(&SnapshotName::fixtures()).await
    }

    /// Puts the directory back as the server started (with its fixtures, or before them).
    pub async fn reset(&self, caller: &Caller, to: ResetTo) -> Result<()> {
        self.require_test_control(caller)?;
        self.restore(&to.snapshot()).await
    }

    /// Copies the whole directory as snapshot `name` (replacing one of that name).
    pub async fn take_snapshot(&self, caller: &Caller, name: &str) -> Result<SnapshotName> {
        self.require_test_control(caller)?;
        let name = SnapshotName::parse_for_taking(name)?;
        self.store().take_snapshot(&name).await?;
        Ok(name)
    }

    /// Puts the whole directory back as snapshot `name` holds it.
    pub async fn restore_snapshot(&self, caller: &Caller, name: &str) -> Result<()> {
        self.require_test_control(caller)?;
        let name = SnapshotName::parse(name)?;
        self.restore(&name).await
    }

    /// Forgets snapshot `name` (not one of the server's own).
    pub async fn delete_snapshot(&self, caller: &Caller, name: &str) -> Result<()> {
        self.require_test_control(caller)?;
        let name = SnapshotName::parse_for_taking(name)?;
        self.store().delete_snapshot(&name).await
    }

    /// The snapshots taken (the server's own, `empty` and `fixtures`, among them).
    pub async fn snapshots(&self, caller: &Caller) -> Result<Vec<String>> {
        self.require_test_control(caller)?;
        self.store().snapshot_names().await
    }

    async fn restore(&self, name: &SnapshotName) -> Result<()> {
        self.store().restore_snapshot(name).await?;
        self.forget_everything_read();
        Ok(())
    }

    /// After every table changed: nothing this node remembers of the database holds.
    pub(crate) fn forget_everything_read(&self) {
        let inner = &self.inner;
        inner.tokens.forget_all();
        inner.signing_key.clear();
        inner.password_policy.clear();
        inner.mfa_policy.clear();
        inner.tenant_name.clear();
        // Refusals summed before the reset belong to the directory that is gone.
        drop(inner.refusals.take());
    }

    /// Where the clock stands.
    pub fn clock_state(&self, caller: &Caller) -> Result<ClockState> {
        let travel = self.require_test_control(caller)?;
        Ok(ClockState {
            now: self.now(),
            offset_ms: travel.offset(),
        })
    }

    /// Moves the clock forward, or back to real time: tokens, codes, tickets, locks, password
    /// expiry and retention all read this clock.
    pub fn move_clock(&self, caller: &Caller, fields: ClockFields) -> Result<ClockState> {
        let travel = self.require_test_control(caller)?;
        match fields.into_move()? {
            ClockMove::Advance(ms) => {
                travel.advance(ms);
            }
            ClockMove::RealTime => travel.real_time(),
        }
        // Cached reads are kept for a time by this clock: what was cached is now of another.
        self.forget_everything_read();
        Ok(ClockState {
            now: self.now(),
            offset_ms: travel.offset(),
        })
    }
}
