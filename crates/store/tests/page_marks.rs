//! Page marks stay in step with the rows of every list through bulk and single inserts,
//! deletes, moves between lists, cascades and concurrent writers; and pages read by them are
//! exactly the rows in order. Runs each list past the split and merge thresholds.
// clippy.toml lets #[test] functions unwrap; the helpers of a test crate need this too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use roster_domain::account::{AccountType, AppAccount};
use roster_domain::application::Application;
use roster_domain::id::Id;
use roster_domain::organization::Organization;
use roster_domain::page::PageRequest;
use roster_domain::permission::{Permission, Permissions};
use roster_domain::role::Role;
use roster_domain::user::User;
use roster_store::{OrgScope, PgStoreOptions, Store};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

fn id(n: u64) -> String {
    // Ids in the real shape, unique and in a random order relative to n.
    roster_domain::id::new_id(1_600_000_000_000 + ((n * 7919) % 100_000) as i64)
}

fn user(id: String, org: &str) -> User {
    User {
        user_name: format!("u{id}"),
        mobile: format!("m{id}"),
        name: "n".into(),
        id: Id::new(id),
        org_id: Some(org.to_owned()),
        email: None,
        employee_id: None,
        first_name: None,
        middle_name: None,
        last_name: None,
        password_hash: None,
        pwd_must_modify: false,
        pwd_change_at: None,
        attrs: Default::default(),
        extension: None,
        secondary_org_ids: Vec::new(),
        disabled: false,
        locked: false,
        grade: 0,
        created_at: 0,
        updated_at: 0,
    }
}

fn org(id: &str, parent: Option<&str>) -> Organization {
    Organization {
        id: Id::new(id),
        code: format!("c{id}"),
        name: format!("n{id}"),
        parent_id: parent.map(Id::new),
        category: "department".into(),
        created_at: 0,
        updated_at: 0,
    }
}

fn account(id: String, app: &str, user: &str, n: u64) -> AppAccount {
    AppAccount {
        id: Id::new(id),
        application_id: Id::new(app),
        user_id: Some(Id::new(user)),
        account_name: format!("a{n}"),
        account_type: if n.is_multiple_of(3) {
            AccountType::Public
        } else {
            AccountType::Basic
        },
        name: None,
        org_id: None,
        password: None,
        disabled: false,
        disabled_by_user: false,
        extension: None,
        created_at: 0,
        updated_at: 0,
    }
}

async fn marks_agree(store: &Arc<dyn Store>) {
    let errors = store
        .read(|tx| Box::pin(async move { tx.page_mark_errors().await }))
        .await
        .unwrap();
    assert!(
        errors.is_empty(),
        "{} disagreements: {:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
}

/// Every page of a list, 100 rows at a time, and the totals they reported.
macro_rules! pages {
    ($store:expr, |$tx:ident, $page:ident| $list:expr) => {{
        let _nothing = ();
        pages!($store, _nothing, |$tx, $page| $list)
    }};
    ($store:expr, $cap:ident, |$tx:ident, $page:ident| $list:expr) => {{
        let mut ids = Vec::new();
        let mut totals = BTreeSet::new();
        for n in 0.. {
            let $page = PageRequest::new(Some(n), Some(100)).unwrap();
            let $cap = $cap.clone();
            let (total, page): (i64, Vec<String>) = $store
                .read(move |$tx| Box::pin(async move { $list }))
                .await
                .unwrap();
            totals.insert(total);
            if page.is_empty() {
                break;
            }
            ids.extend(page);
        }
        (ids, totals)
    }};
}

fn expect(ids: (Vec<String>, BTreeSet<i64>), model: impl IntoIterator<Item = String>) {
    let model: Vec<String> = model.into_iter().collect();
    assert_eq!(ids.1, BTreeSet::from([model.len() as i64]), "total");
    assert_eq!(ids.0.len(), model.len(), "rows");
    assert!(ids.0 == model, "pages differ from the rows in order");
}

async fn check_users(store: &Arc<dyn Store>, users: &BTreeMap<String, String>, orgs: &[String]) {
    marks_agree(store).await;
    let all = pages!(store, |tx, page| {
        let p = tx.list_users(None, page).await?;
        Ok((
            p.total,
            p.items.into_iter().map(|u| u.id.into_string()).collect(),
        ))
    });
    expect(all, users.keys().cloned());
    for o in orgs {
        let o2 = o.clone();
        let of_org = pages!(store, o2, |tx, page| {
            let p = tx.list_users(Some(&o2), page).await?;
            Ok((
                p.total,
                p.items.into_iter().map(|u| u.id.into_string()).collect(),
            ))
        });
        expect(
            of_org,
            users
                .iter()
                .filter(|(_, uo)| *uo == o)
                .map(|(u, _)| u.clone()),
        );
    }
}

async fn exercise(store: Arc<dyn Store>) {
    let mut rng = StdRng::seed_from_u64(7);
    let orgs: Vec<String> = (0..3).map(|n| id(1_000_000 + n)).collect();
    {
        let (a, b, c) = (orgs[0].clone(), orgs[1].clone(), orgs[2].clone());
        store
            .write(move |tx| {
                Box::pin(async move {
                    tx.insert_organization(&org(&a, None)).await?;
                    tx.insert_organization(&org(&b, None)).await?;
                    tx.insert_organization(&org(&c, Some(&a))).await
                })
            })
            .await
            .unwrap();
    }

    // Users: bulk into two organizations (each past the split threshold), then single
    // inserts from concurrent writers.
    let mut users: BTreeMap<String, String> = BTreeMap::new();
    let mut n = 0;
    for _ in 0..3 {
        let batch: Vec<User> = (0..7000)
            .map(|_| {
                n += 1;
                user(id(n), &orgs[rng.gen_range(0..2)])
            })
            .collect();
        for u in &batch {
            users.insert(u.id.to_string(), u.org_id.clone().unwrap());
        }
        store
            .write(move |tx| Box::pin(async move { tx.insert_users(&batch).await }))
            .await
            .unwrap();
    }
    let singles: Vec<User> = (0..600)
        .map(|_| {
            n += 1;
            user(id(n), orgs.choose(&mut rng).unwrap())
        })
        .collect();
    for u in &singles {
        users.insert(u.id.to_string(), u.org_id.clone().unwrap());
    }
    let writes = singles.into_iter().map(|u| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .write(move |tx| Box::pin(async move { tx.insert_user(&u).await }))
                .await
        })
    });
    for w in futures::future::join_all(writes).await {
        w.unwrap().unwrap();
    }
    // Jobs that fail after writing, among ones that succeed: only the latter count.
    let mixed = (0..100).map(|k| {
        n += 1;
        let u = user(id(n), &orgs[0]);
        if k % 2 == 0 {
            users.insert(u.id.to_string(), orgs[0].clone());
        }
        let store = store.clone();
        tokio::spawn(async move {
            store
                .write(move |tx| {
                    Box::pin(async move {
                        tx.insert_user(&u).await?;
                        if k % 2 == 1 {
                            return Err(roster_domain::ErrorKind::InvalidParameter.into());
                        }
                        Ok(())
                    })
                })
                .await
        })
    });
    for (k, w) in futures::future::join_all(mixed)
        .await
        .into_iter()
        .enumerate()
    {
        assert_eq!(w.unwrap().is_ok(), k % 2 == 0);
    }
    check_users(&store, &users, &orgs).await;

    // Organizations: a child becomes a root.
    {
        let c = orgs[2].clone();
        store
            .write(move |tx| {
                Box::pin(async move {
                    let mut o = tx.organization(&c).await?.unwrap();
                    o.parent_id = None;
                    tx.update_organization(&o).await
                })
            })
            .await
            .unwrap();
        let roots = pages!(store, |tx, page| {
            let p = tx.list_organizations(&OrgScope::Roots, page).await?;
            Ok((
                p.total,
                p.items.into_iter().map(|o| o.id.into_string()).collect(),
            ))
        });
        let mut sorted = orgs.clone();
        sorted.sort();
        expect(roots, sorted);
    }

    // An organization with more children than a run holds, some older than it, some moved in
    // or out, many deleted: its page lists it among its children in id order.
    {
        // The parent's id falls in the middle of its children's.
        let mut ids: Vec<String> = (0..9001)
            .map(|_| {
                n += 1;
                id(n)
            })
            .collect();
        ids.sort();
        let parent = ids.remove(4500);
        let mut children: BTreeSet<String> = BTreeSet::new();
        {
            let parent = parent.clone();
            store
                .write(move |tx| {
                    Box::pin(async move { tx.insert_organization(&org(&parent, None)).await })
                })
                .await
                .unwrap();
        }
        let mut jobs = Vec::new();
        for batch in ids.chunks(500) {
            let batch: Vec<String> = batch.to_vec();
            children.extend(batch.iter().cloned());
            let (store, parent) = (store.clone(), parent.clone());
            jobs.push(tokio::spawn(async move {
                store
                    .write(move |tx| {
                        Box::pin(async move {
                            for c in batch {
                                tx.insert_organization(&org(&c, Some(&parent))).await?;
                            }
                            Ok(())
                        })
                    })
                    .await
            }));
        }
        for j in futures::future::join_all(jobs).await {
            j.unwrap().unwrap();
        }
        let listed: Vec<String> = children.iter().cloned().collect();
        let (mut out, mut gone) = (Vec::new(), Vec::new());
        for (k, c) in listed.iter().enumerate() {
            match k % 10 {
                0 => out.push(c.clone()),
                1..=6 => gone.push(c.clone()),
                _ => {}
            }
        }
        for c in out.iter().chain(&gone) {
            children.remove(c);
        }
        children.insert(orgs[1].clone());
        {
            let (parent, moved_in) = (parent.clone(), orgs[1].clone());
            store
                .write(move |tx| {
                    Box::pin(async move {
                        for c in out {
                            let mut o = tx.organization(&c).await?.unwrap();
                            o.parent_id = None;
                            tx.update_organization(&o).await?;
                        }
                        for c in gone {
                            tx.delete_organization(&c).await?;
                        }
                        let mut o = tx.organization(&moved_in).await?.unwrap();
                        o.parent_id = Some(Id::new(parent));
                        tx.update_organization(&o).await
                    })
                })
                .await
                .unwrap();
        }
        marks_agree(&store).await;
        let p2 = parent.clone();
        let listed = pages!(store, p2, |tx, page| {
            let p = tx
                .list_organizations(&OrgScope::WithChildren(p2), page)
                .await?;
            Ok((
                p.total,
                p.items.into_iter().map(|o| o.id.into_string()).collect(),
            ))
        });
        children.insert(parent);
        expect(listed, children.iter().cloned());
    }

    // An account per user in one application, most of them in a role.
    let app = id(2_000_000);
    let role = id(2_000_001);
    {
        let (app, role) = (app.clone(), role.clone());
        store
            .write(move |tx| {
                Box::pin(async move {
                    tx.insert_application(&Application {
                        id: Id::new(app.clone()),
                        name: "app".into(),
                        client_id: "client".into(),
                        secret_digest: "x".into(),
                        permissions: Permissions::new(vec![Permission::All]),
                        disabled: false,
                        token_generation: 0,
                        created_at: 0,
                        updated_at: 0,
                    })
                    .await?;
                    tx.insert_role(&Role {
                        id: Id::new(role),
                        application_id: Id::new(app),
                        code: "r".into(),
                        name: None,
                        created_at: 0,
                        updated_at: None,
                    })
                    .await
                })
            })
            .await
            .unwrap();
    }
    // Account id → (its user while it has one, its type).
    let mut accounts: BTreeMap<String, (Option<String>, AccountType)> = BTreeMap::new();
    let mut members: BTreeSet<String> = BTreeSet::new();
    let holders: Vec<String> = users.keys().cloned().collect();
    let mut jobs = Vec::new();
    for chunk in holders.chunks(200) {
        let mut batch = Vec::new();
        for u in chunk {
            n += 1;
            let a = account(id(n), &app, u, n);
            accounts.insert(a.id.to_string(), (Some(u.clone()), a.account_type));
            let member = !n.is_multiple_of(5);
            if member {
                members.insert(a.id.to_string());
            }
            batch.push((a, member));
        }
        let (store, role) = (store.clone(), role.clone());
        jobs.push(tokio::spawn(async move {
            store
                .write(move |tx| {
                    Box::pin(async move {
                        for (a, member) in batch {
                            tx.insert_account(&a).await?;
                            if member {
                                tx.add_role_member(&role, &a.id, 0).await?;
                            }
                        }
                        Ok(())
                    })
                })
                .await
        }));
    }
    for j in futures::future::join_all(jobs).await {
        j.unwrap().unwrap();
    }
    marks_agree(&store).await;

    // Accounts deleted (one by one, or with their user's), orphaned, taken out of the role.
    let mut jobs = Vec::new();
    let owned: Vec<(String, String)> = accounts
        .iter()
        .map(|(a, (u, _))| (a.clone(), u.clone().unwrap()))
        .collect();
    for chunk in owned.chunks(50) {
        let mut work = Vec::new();
        for (a, u) in chunk {
            let step = rng.gen_range(0..10);
            match step {
                0..=2 => {
                    accounts.remove(a);
                    members.remove(a);
                }
                3 => {
                    if let Some(acc) = accounts.get_mut(a) {
                        *acc = (None, AccountType::Orphan);
                    }
                }
                4 | 5 => {
                    members.remove(a);
                }
                _ => continue,
            }
            work.push((step, a.clone(), u.clone()));
        }
        let (store, app, role) = (store.clone(), app.clone(), role.clone());
        jobs.push(tokio::spawn(async move {
            store
                .write(move |tx| {
                    Box::pin(async move {
                        for (step, a, u) in work {
                            match step {
                                0 | 1 => {
                                    tx.delete_account(&Id::new(app.as_str()), &Id::new(a.as_str()))
                                        .await?
                                }
                                2 => {
                                    tx.delete_accounts_of_user(&Id::new(u.as_str())).await?;
                                }
                                3 => {
                                    tx.orphan_accounts_of_user(&Id::new(u.as_str()), 1).await?;
                                }
                                _ => {
                                    tx.remove_role_member(&role, &Id::new(a.as_str())).await?;
                                }
                            }
                        }
                        Ok(())
                    })
                })
                .await
        }));
    }
    for j in futures::future::join_all(jobs).await {
        j.unwrap().unwrap();
    }
    marks_agree(&store).await;

    // Moves between organizations, and deletes of most users with their accounts,
    // concurrently in small jobs.
    let ids: Vec<String> = users.keys().cloned().collect();
    let mut jobs = Vec::new();
    for chunk in ids.chunks(40) {
        let mut moves = Vec::new();
        let mut deletes = Vec::new();
        for u in chunk {
            match rng.gen_range(0..10) {
                0..=7 => deletes.push(u.clone()),
                8 => {
                    let to = orgs.choose(&mut rng).unwrap().clone();
                    users.insert(u.clone(), to.clone());
                    moves.push((u.clone(), to));
                }
                _ => {}
            }
        }
        for d in &deletes {
            users.remove(d);
            let gone: Vec<String> = accounts
                .iter()
                .filter(|(_, (owner, _))| owner.as_ref() == Some(d))
                .map(|(a, _)| a.clone())
                .collect();
            for a in gone {
                accounts.remove(&a);
                members.remove(&a);
            }
        }
        let store = store.clone();
        jobs.push(tokio::spawn(async move {
            store
                .write(move |tx| {
                    Box::pin(async move {
                        for (u, to) in moves {
                            let mut found = tx.user(&Id::new(u.as_str())).await?.unwrap();
                            found.org_id = Some(to);
                            tx.update_user(&found).await?;
                        }
                        for d in deletes {
                            tx.delete_accounts_of_user(&Id::new(d.as_str())).await?;
                            tx.delete_user(&Id::new(d.as_str())).await?;
                        }
                        Ok(())
                    })
                })
                .await
        }));
    }
    for j in futures::future::join_all(jobs).await {
        j.unwrap().unwrap();
    }
    check_users(&store, &users, &orgs).await;
    for kind in [
        None,
        Some(AccountType::Basic),
        Some(AccountType::Public),
        Some(AccountType::Orphan),
    ] {
        let app2 = app.clone();
        let listed = pages!(store, app2, |tx, page| {
            let p = tx
                .list_accounts(&Id::new(app2.as_str()), kind, page)
                .await?;
            Ok((
                p.total,
                p.items.into_iter().map(|a| a.id.into_string()).collect(),
            ))
        });
        expect(
            listed,
            accounts
                .iter()
                .filter(|(_, (_, t))| kind.is_none_or(|k| k == *t))
                .map(|(a, _)| a.clone()),
        );
    }
    let role2 = role.clone();
    let listed = pages!(store, role2, |tx, page| {
        let p = tx.list_role_members(&role2, page).await?;
        Ok((
            p.total,
            p.items.into_iter().map(|a| a.id.into_string()).collect(),
        ))
    });
    expect(listed, members.iter().cloned());

    // A deleted role takes its members' marks with it.
    store
        .write(move |tx| Box::pin(async move { tx.delete_role(&role).await }))
        .await
        .unwrap();
    marks_agree(&store).await;

    // Counting again from the tables gives the same pages.
    store
        .write(|tx| Box::pin(async move { tx.rebuild_page_marks().await }))
        .await
        .unwrap();
    check_users(&store, &users, &orgs).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marks_follow_every_change_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store = roster_store::open(&url, PgStoreOptions::default())
        .await
        .unwrap();
    exercise(store.clone()).await;
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(roster_pg),
    ignore = "set ROSTER_TEST_POSTGRES_URL to run on PostgreSQL"
)]
async fn marks_follow_every_change_on_postgres() {
    use sqlx::Connection;
    let admin = std::env::var("ROSTER_TEST_POSTGRES_URL").unwrap();
    let name = format!("roster_marks_{:016x}", rand::random::<u64>());
    let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap();
    let url = format!("{base}/{name}");
    let store = roster_store::open(&url, PgStoreOptions::default())
        .await
        .unwrap();
    exercise(store.clone()).await;
    store.close().await;
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await
        .unwrap();
}

/// A database from before page marks (only the first migration) gets its marks counted when
/// Roster next opens it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgraded_database_gets_its_marks_counted() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let url = format!("sqlite://{}", path.display());
    {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true);
        let mut conn = sqlx::SqliteConnection::connect_with(&options)
            .await
            .unwrap();
        let mut first = sqlx::migrate::Migrator::new(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite"),
        )
        .await
        .unwrap();
        first.migrations = first.migrations.iter().take(1).cloned().collect();
        first.run(&mut conn).await.unwrap();
        sqlx::query(
            "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 5000) \
             INSERT INTO users (id, user_name, mobile, name, pwd_must_modify, created_at, updated_at) \
             SELECT printf('20200101000000000-0000-%09X', n), 'u' || n, 'm' || n, 'n', FALSE, n, n FROM seq",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
    }
    let store = roster_store::open(&url, PgStoreOptions::default())
        .await
        .unwrap();
    marks_agree(&store).await;
    let deep = store
        .read(|tx| {
            Box::pin(async move {
                tx.list_users(None, PageRequest::new(Some(49), Some(100)).unwrap())
                    .await
            })
        })
        .await
        .unwrap();
    assert_eq!(deep.total, 5000);
    assert_eq!(deep.items.len(), 100);
    assert_eq!(deep.items[0].user_name, "u4901");
    store.close().await;
}
