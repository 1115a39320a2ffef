//! The audit log.

use crate::backend::{Backend, ToArg};
use crate::inserts::Rows;
use crate::rows::AuditRow;
use crate::store_tx::StoreTx;
use crate::tx::AuditTx;
use async_trait::async_trait;
use roster_domain::audit::{AuditEntry, AuditFilter, AuditRecord};
use roster_domain::page::{Page, PageRequest};
use roster_domain::time::Millis;
use roster_domain::Result;

/// `records` as rows to insert.
pub(crate) fn audit_rows(records: &[AuditRecord]) -> Rows<'_> {
    Rows::new(
        "audit_log (at, actor, operation, target_type, target_id, count)",
        records,
        |r| {
            [
                &r.at,
                &r.actor,
                &r.operation,
                &r.target_type,
                &r.target_id,
                &r.count,
            ]
        },
    )
}

/// The WHERE clause `filter` makes, and its arguments in placeholder order.
fn conditions(filter: &AuditFilter) -> (String, Vec<&dyn ToArg>) {
    let mut conditions = Vec::new();
    let mut args: Vec<&dyn ToArg> = Vec::new();
    if let Some(actor) = &filter.actor {
        args.push(actor);
        conditions.push(format!("actor = ${}", args.len()));
    }
    if let Some(operation) = &filter.operation {
        args.push(operation);
        conditions.push(format!("operation = ${}", args.len()));
    }
    if let Some(target) = &filter.target_id {
        args.push(target);
        conditions.push(format!("target_id = ${}", args.len()));
    }
    if let Some(from) = &filter.from {
        args.push(from);
        conditions.push(format!("at >= ${}", args.len()));
    }
    if let Some(to) = &filter.to {
        args.push(to);
        conditions.push(format!("at < ${}", args.len()));
    }
    if conditions.is_empty() {
        (String::new(), args)
    } else {
        (format!("WHERE {}", conditions.join(" AND ")), args)
    }
}

#[async_trait]
impl<B: Backend> AuditTx for StoreTx<'_, B> {
    async fn insert_audit(&mut self, record: &AuditRecord) -> Result<()> {
        // Written with the job's other deferred writes, at its end.
        self.pending.rows.audits.push(record.clone());
        Ok(())
    }

    async fn insert_audits(&mut self, records: &[AuditRecord]) -> Result<()> {
        self.insert_rows(&[audit_rows(records)]).await
    }

    async fn delete_audit_before(&mut self, at: Millis, limit: i64) -> Result<u64> {
        self.execute(
            "DELETE FROM audit_log WHERE id IN \
             (SELECT id FROM audit_log WHERE at < $1 ORDER BY at LIMIT $2)",
            &[&at, &limit],
        )
        .await
    }

    async fn list_audit(
        &mut self,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>> {
        let (filter_sql, args) = conditions(filter);
        let rows: Page<AuditRow> = self
            .fetch_page(
                &format!(
                    "SELECT id, at, actor, operation, target_type, target_id, count \
                     FROM audit_log {filter_sql} ORDER BY id DESC"
                ),
                &format!("SELECT COUNT(*) FROM audit_log {filter_sql}"),
                page,
                &args,
            )
            .await?;
        Ok(rows.map(AuditRow::into_domain))
    }
}
