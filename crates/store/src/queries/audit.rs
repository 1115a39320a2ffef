//! The audit log.

use crate::backend::{Backend, ToArg};
use crate::rows::AuditRow;
use crate::store_tx::{values_list, StoreTx};
use crate::tx::AuditTx;
use async_trait::async_trait;
use roster_domain::audit::{AuditEntry, AuditFilter, AuditRecord};
use roster_domain::page::{Page, PageRequest};
use roster_domain::time::Millis;
use roster_domain::Result;

impl<B: Backend> StoreTx<'_, B> {
    /// Inserts `records` with few statements.
    pub(crate) async fn insert_audit_rows(&mut self, records: &[AuditRecord]) -> Result<()> {
        for chunk in records.chunks(1000) {
            let sql = format!(
                "INSERT INTO audit_log (at, actor, operation, target_type, target_id, count) \
                 VALUES {}",
                values_list::<B>(chunk.len(), 6)
            );
            let args: Vec<&dyn ToArg> = chunk
                .iter()
                .flat_map(|r| -> [&dyn ToArg; 6] {
                    [
                        &r.at,
                        &r.actor,
                        &r.operation,
                        &r.target_type,
                        &r.target_id,
                        &r.count,
                    ]
                })
                .collect();
            self.execute(&sql, &args).await?;
        }
        Ok(())
    }
}

/// The WHERE clause `filter` makes, and its arguments in placeholder order.
fn conditions(filter: &AuditFilter) -> (String, Vec<&dyn ToArg>) {
    let mut conditions = Vec::new();
    let mut args: Vec<&dyn ToArg> = Vec::new();
    if let Some(actor) = &filter.actor {
        args.push(actor);
        conditions.push(format!("actor = ${}", args.len()));
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
        self.pending.audits.push(record.clone());
        Ok(())
    }

    async fn insert_audits(&mut self, records: &[AuditRecord]) -> Result<()> {
        self.insert_audit_rows(records).await
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
