//! Organizations, as their tree.

use super::*;

pub(super) async fn organizations(State(service): State<Service>, console: Console) -> Response {
    let caller = &console.signed.person.caller;
    // The first 500 organizations, shown as their tree.
    let mut all = Vec::new();
    let mut more = false;
    for offset in 0..5 {
        let request = PageRequest { offset, limit: 100 };
        match service
            .list_organizations(caller, None, true, request)
            .await
        {
            Ok(found) => {
                let full = found.items.len() == 100;
                all.extend(found.items);
                more = full && offset == 4;
                if !full {
                    break;
                }
            }
            Err(e) => return console.refused(&service, &e).await,
        }
    }
    let mut lines = Vec::new();
    let ids: std::collections::HashSet<_> = all.iter().map(|o| o.id.clone()).collect();
    let roots = all
        .iter()
        .filter(|o| o.parent_id.as_ref().is_none_or(|p| !ids.contains(p)));
    let mut stack: Vec<(&roster_domain::organization::Organization, usize)> =
        roots.map(|o| (o, 0)).collect();
    stack.reverse();
    while let Some((org, depth)) = stack.pop() {
        lines.push(page::OrgLine {
            name: org.name.clone(),
            code: org.code.clone(),
            depth,
        });
        let mut children: Vec<_> = all
            .iter()
            .filter(|c| c.parent_id.as_ref() == Some(&org.id))
            .map(|c| (c, depth + 1))
            .collect();
        children.reverse();
        stack.extend(children);
    }
    let frame = console
        .frame(&service, "/console/organizations", None, None)
        .await;
    app_html(
        StatusCode::OK,
        render(&page::Organizations {
            frame,
            roots: lines,
            more,
        }),
    )
}
