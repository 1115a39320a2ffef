//! How a use case runs. A use case is an ordinary `async fn` over one transaction:
//!
//! ```ignore
//! async fn delete_user(tx: &mut dyn Tx, cx: &mut Cx, user_id: UserId) -> Result<()> { … }
//! ```
//!
//! A write takes a [`Cx`] (the time, who acts, the audit records it leaves) and its input, and
//! [`Service::write`] runs it in one transaction that commits its audit records with it; a read
//! takes only its input and runs through [`Service::read`]. The permission check comes first,
//! in the `Service` method that calls the runner.

use crate::Service;
use roster_domain::audit::AuditRecord;
use roster_domain::time::{Clock, Millis};
use roster_domain::Result;
use roster_store::Tx;
use std::future::Future;
use std::sync::Arc;

/// What a write use case knows besides its input, and what it leaves for the audit log.
pub(crate) struct Cx {
    /// The time the transaction began: every record the use case writes carries it.
    pub now: Millis,
    clock: Arc<dyn Clock>,
    actor: String,
    audits: Vec<AuditRecord>,
}

impl Cx {
    fn new(clock: Arc<dyn Clock>, actor: String) -> Self {
        Self {
            now: clock.now(),
            clock,
            actor,
            audits: Vec::new(),
        }
    }

    /// The time now, read again: for a use case that makes many rows in one long
    /// transaction (a bulk import), whose ids carry their creation time, so that rows made
    /// one after the other get ids in that order (and sit together in the tables' indexes).
    pub fn tick(&self) -> Millis {
        self.clock.now()
    }

    /// Acts as `actor` from now on: for a use case that learns who acts from what it reads
    /// (a logout, from the session it ends).
    pub fn act_as(&mut self, actor: String) {
        self.actor = actor;
    }

    /// Records that `operation` touched `target_id`, now; written when the use case succeeds.
    pub fn audit(&mut self, operation: &'static str, target_type: &'static str, target_id: &str) {
        let record = self.audit_record(operation, target_type, target_id);
        self.audits.push(record);
    }

    /// The audit record of `operation` on `target_id`, for a use case that writes its records
    /// itself as it goes (a bulk import, which would not hold a million of them).
    pub fn audit_record(
        &self,
        operation: &'static str,
        target_type: &'static str,
        target_id: &str,
    ) -> AuditRecord {
        AuditRecord {
            at: self.now,
            actor: self.actor.clone(),
            operation,
            target_type,
            target_id: target_id.to_owned(),
            count: 1,
        }
    }
}

/// A write use case: `async fn(&mut dyn Tx, &mut Cx, Input) -> Result<T>`. (A trait of its
/// own because a bound on a plain `FnOnce` cannot name the future's lifetime.)
pub(crate) trait WriteCase<'t, A, T>:
    FnOnce(&'t mut dyn Tx, &'t mut Cx, A) -> Self::Fut + Send + 'static
{
    type Fut: Future<Output = Result<T>> + Send + 't;
}

impl<'t, A, T, F, Fut> WriteCase<'t, A, T> for F
where
    F: FnOnce(&'t mut dyn Tx, &'t mut Cx, A) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T>> + Send + 't,
{
    type Fut = Fut;
}

/// A read use case: `async fn(&mut dyn Tx, Input) -> Result<T>`.
pub(crate) trait ReadCase<'t, A, T>:
    FnOnce(&'t mut dyn Tx, A) -> Self::Fut + Send + 'static
{
    type Fut: Future<Output = Result<T>> + Send + 't;
}

impl<'t, A, T, F, Fut> ReadCase<'t, A, T> for F
where
    F: FnOnce(&'t mut dyn Tx, A) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T>> + Send + 't,
{
    type Fut = Fut;
}

impl Service {
    /// Runs a write use case acting as `actor` in one transaction, with its audit records.
    pub(crate) async fn write<A, T, F>(&self, actor: &str, use_case: F, input: A) -> Result<T>
    where
        A: Send + 'static,
        T: Send + 'static,
        F: for<'t> WriteCase<'t, A, T>,
    {
        let clock: Arc<dyn Clock> = self.clock();
        let actor = actor.to_owned();
        self.store()
            .write(move |tx| {
                Box::pin(async move {
                    let mut cx = Cx::new(clock, actor);
                    let out = use_case(&mut *tx, &mut cx, input).await?;
                    for record in &cx.audits {
                        tx.insert_audit(record).await?;
                    }
                    Ok(out)
                })
            })
            .await
    }

    /// Runs a read use case on one connection.
    pub(crate) async fn read<A, T, F>(&self, use_case: F, input: A) -> Result<T>
    where
        A: Send + 'static,
        T: Send + 'static,
        F: for<'t> ReadCase<'t, A, T>,
    {
        self.store()
            .read(move |tx| Box::pin(use_case(tx, input)))
            .await
    }

    /// Runs a read use case that must see one snapshot of the whole database (exports).
    pub(crate) async fn snapshot<A, T, F>(&self, use_case: F, input: A) -> Result<T>
    where
        A: Send + 'static,
        T: Send + 'static,
        F: for<'t> ReadCase<'t, A, T>,
    {
        self.store()
            .snapshot(move |tx| Box::pin(use_case(tx, input)))
            .await
    }
}
