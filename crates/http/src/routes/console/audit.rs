//! The audit log: filters, pages, the CSV export.

use super::*;

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub(super) struct AuditQuery {
    actor: Option<String>,
    operation: Option<String>,
    target: Option<String>,
    /// `YYYY-MM-DDTHH:MM` (a datetime-local field), UTC.
    from: Option<String>,
    to: Option<String>,
    /// From 1.
    page: Option<i64>,
}

impl AuditQuery {
    fn filter(&self) -> Result<AuditFilter, Error> {
        let text = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        let time = |v: &Option<String>, name: &str| -> Result<Option<i64>, Error> {
            match text(v) {
                None => Ok(None),
                Some(t) => {
                    // A datetime-local field sends 2026-12-06T09:30, read as UTC.
                    let full = if t.len() == 16 {
                        format!("{t}:00Z")
                    } else {
                        t.clone()
                    };
                    roster_domain::time::parse(&full).map(Some).ok_or_else(|| {
                        Error::invalid(format!("{name}: a date and time, e.g. 2026-12-06T09:30."))
                    })
                }
            }
        };
        Ok(AuditFilter {
            actor: text(&self.actor),
            operation: text(&self.operation),
            target_id: text(&self.target),
            from: time(&self.from, "from")?,
            to: time(&self.to, "to")?,
        })
    }

    fn query_string(&self, page: Option<i64>) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("actor", &self.actor),
            ("operation", &self.operation),
            ("target", &self.target),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                s.append_pair(name, v);
            }
        }
        if let Some(page) = page {
            s.append_pair("page", &page.to_string());
        }
        s.finish()
    }
}

pub(super) async fn audit(
    State(service): State<Service>,
    console: Console,
    Query(query, _): Query<AuditQuery, PageRefused>,
) -> Response {
    let caller = &console.signed.person.caller;
    let number = query.page.unwrap_or(1).max(1);
    let found = match query.filter() {
        Ok(filter) => match PageRequest::new(Some(number - 1), Some(PAGE_SIZE)) {
            Ok(request) => service.list_audit(caller, filter, request).await,
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    let (lines, total, error) = match found {
        Ok(page) => (page.items, page.total, None),
        Err(e) if e.kind() == roster_domain::ErrorKind::PermissionDenied => {
            return console.refused(&service, &e).await
        }
        Err(e) => (Vec::new(), 0, Some(describe(console.lang(), &e))),
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let link = |n: i64| format!("/console/audit?{}", query.query_string(Some(n)));
    let frame = console.frame(&service, "/console/audit", None, error).await;
    app_html(
        status,
        render(&page::Audit {
            frame,
            actor: query.actor.clone().unwrap_or_default(),
            operation: query.operation.clone().unwrap_or_default(),
            target: query.target.clone().unwrap_or_default(),
            from: query.from.clone().unwrap_or_default(),
            to: query.to.clone().unwrap_or_default(),
            lines: lines
                .into_iter()
                .map(|e| page::AuditLine {
                    at: when(e.at),
                    actor: e.actor,
                    operation: e.operation,
                    target: format!("{} {}", e.target_type, e.target_id),
                    count: e.count,
                })
                .collect(),
            csv_href: format!("/console/audit.csv?{}", query.query_string(None)),
            previous: (number > 1).then(|| link(number - 1)),
            next: (number * PAGE_SIZE < total).then(|| link(number + 1)),
            total,
        }),
    )
}

/// Most records one CSV export holds.
pub(super) const CSV_LIMIT: i64 = 100_000;

/// The audit log as CSV (RFC 4180), with the page's filters; at most [`CSV_LIMIT`] records,
/// the newest first.
pub(super) async fn audit_csv(
    State(service): State<Service>,
    console: Console,
    Query(query, _): Query<AuditQuery, PageRefused>,
) -> Response {
    let caller = &console.signed.person.caller;
    let filter = match query.filter() {
        Ok(f) => f,
        Err(e) => return console.refused(&service, &e).await,
    };
    let mut out = String::from("time,actor,operation,target_type,target_id,count\r\n");
    let mut offset = 0;
    loop {
        let request = PageRequest { offset, limit: 100 };
        let page = match service.list_audit(caller, filter.clone(), request).await {
            Ok(page) => page,
            Err(e) => return console.refused(&service, &e).await,
        };
        for e in &page.items {
            let fields = [
                roster_domain::time::format_millis(e.at),
                e.actor.clone(),
                e.operation.clone(),
                e.target_type.clone(),
                e.target_id.clone(),
                e.count.to_string(),
            ];
            let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            out.push_str(&row.join(","));
            out.push_str("\r\n");
        }
        offset += 1;
        if page.items.len() < 100 || offset * 100 >= CSV_LIMIT {
            break;
        }
    }
    let mut response = (StatusCode::OK, out).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"roster-audit.csv\""),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A CSV field, quoted when it must be; a leading `=`, `+`, `-` or `@` is kept from being
/// read as a formula by spreadsheets (an actor or target id is text anyone may have chosen).
pub(super) fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("@x,y"), "\"'@x,y\"");
    }
}
