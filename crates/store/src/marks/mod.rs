//! Page marks: how lists answer a deep page as fast as the first.
//!
//! Here the model (lists, their scopes, run lengths); `changes` gathers what a job changes in
//! lists, `runs` keeps the marks in step with those changes, `fold` moves PostgreSQL's delta
//! rows into the marks, `page` reads a page by them, `check` counts them again.
//!
//! The reference pages by page number, and neither database can skip to the n-th entry of an
//! index without walking the ones before it. So each list keeps, in `page_marks`, its ids cut
//! into runs of a thousand or a few ([`part`]), each named by its first key and holding its row
//! count. A page sums the counts (one small read), finds the run holding its first row, and
//! skips at most one run's worth of index entries from there; `total` is the same sum, not a
//! `COUNT(*)`.
//!
//! Writes record what they add to or remove from a list, and the store applies those changes
//! in the same transaction as the rows (`apply_pending`), so a count is never out of step with
//! its rows. On SQLite (one writer) the marks change at once, once per group commit. On
//! PostgreSQL (writers on many connections and nodes) each change is a delta row keyed by the
//! row's own key, written without a lock, so writers of one list never queue on its marks; a
//! read counts each delta in the run that holds its key, and a fold after the commit (now and
//! then, in one snapshot) moves deltas into the marks and cuts or joins runs.
//!
//! Keys are compared in Rust and in SQL alike: ids have one fixed shape (digits, upper-case
//! hex, dashes at fixed places), which every collation orders byte by byte.

mod changes;
mod check;
mod fold;
mod page;
mod runs;

pub(crate) use changes::ListChanges;
pub(crate) use runs::delta_rows;

use crate::backend::Backend;

/// Rows per run. A page sums one count per run and skips within one run (up to twice this
/// long) of index entries, so the best length weighs the two costs. On SQLite a count costs
/// about as much as skipping 200 entries (~1 µs against ~5 ns): long runs, and a page at 10⁶
/// rows sums ~250 counts and skips at most 8,192 entries. On PostgreSQL (concurrent writers)
/// skipping an entry costs ~100 ns: shorter runs.
pub(crate) const fn part<B: Backend>() -> i64 {
    if B::CONCURRENT {
        1024
    } else {
        4096
    }
}

/// A run longer than this is cut.
pub(crate) const fn split_above<B: Backend>() -> i64 {
    2 * part::<B>()
}

/// A run shorter than this joins the one before.
pub(crate) const fn merge_below<B: Backend>() -> i64 {
    part::<B>() / 4
}

/// A list that pages by marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum List {
    Applications,
    Organizations,
    RootOrganizations,
    ChildOrganizations,
    AppOrganizations,
    Users,
    UsersOfOrganization,
    Accounts,
    AccountsOfType,
    Roles,
    RoleMembers,
}

impl List {
    pub(crate) const ALL: [List; 11] = [
        List::Applications,
        List::Organizations,
        List::RootOrganizations,
        List::ChildOrganizations,
        List::AppOrganizations,
        List::Users,
        List::UsersOfOrganization,
        List::Accounts,
        List::AccountsOfType,
        List::Roles,
        List::RoleMembers,
    ];

    /// The name stored in `page_marks.list`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            List::Applications => "applications",
            List::Organizations => "organizations",
            List::RootOrganizations => "root_organizations",
            List::ChildOrganizations => "child_organizations",
            List::AppOrganizations => "app_organizations",
            List::Users => "users",
            List::UsersOfOrganization => "users_of_organization",
            List::Accounts => "accounts",
            List::AccountsOfType => "accounts_of_type",
            List::Roles => "roles",
            List::RoleMembers => "role_members",
        }
    }

    /// The list stored as `name` in `page_marks.list`.
    pub(crate) fn from_name(name: &str) -> Option<List> {
        List::ALL.into_iter().find(|l| l.name() == name)
    }

    /// The table whose rows the list counts.
    pub(crate) fn table(self) -> &'static str {
        match self {
            List::Applications => "applications",
            List::Organizations | List::RootOrganizations | List::ChildOrganizations => {
                "organizations"
            }
            List::AppOrganizations => "app_organizations",
            List::Users | List::UsersOfOrganization => "users",
            List::Accounts | List::AccountsOfType => "app_accounts",
            List::Roles => "app_roles",
            List::RoleMembers => "app_role_members",
        }
    }

    /// The column the list is ordered by (an id, unique within a scope).
    pub(crate) fn key(self) -> &'static str {
        match self {
            List::RoleMembers => "account_id",
            _ => "id",
        }
    }

    /// The columns whose values name one instance of the list (an application's accounts).
    pub(crate) fn scope_columns(self) -> &'static [&'static str] {
        match self {
            List::Applications | List::Organizations | List::RootOrganizations | List::Users => &[],
            List::AppOrganizations | List::Accounts | List::Roles => &["application_id"],
            List::UsersOfOrganization => &["org_id"],
            List::ChildOrganizations => &["parent_id"],
            List::AccountsOfType => &["application_id", "account_type"],
            List::RoleMembers => &["role_id"],
        }
    }

    /// A condition rows must meet beyond their scope, if any.
    fn condition(self) -> Option<&'static str> {
        match self {
            List::RootOrganizations => Some("parent_id IS NULL"),
            _ => None,
        }
    }

    /// The SQL condition selecting one scope's rows, its values bound from `$1`.
    pub(crate) fn filter(self) -> String {
        let mut parts: Vec<String> = self.condition().map(str::to_owned).into_iter().collect();
        for (i, column) in self.scope_columns().iter().enumerate() {
            parts.push(format!("{column} = ${}", i + 1));
        }
        if parts.is_empty() {
            "TRUE".to_owned()
        } else {
            parts.join(" AND ")
        }
    }

    /// Every row the list counts, in any scope, as (scope text, key), in scope and key order.
    pub(crate) fn every_row(self) -> String {
        let columns = self.scope_columns();
        let scope = if columns.is_empty() {
            "''".to_owned()
        } else {
            columns.join(" || '/' || ")
        };
        let mut order: Vec<&str> = columns.to_vec();
        order.push(self.key());
        format!(
            "SELECT {scope}, {key} FROM {table} WHERE {filter} ORDER BY {order}",
            key = self.key(),
            table = self.table(),
            filter = self.every_scope_filter(),
            order = order.join(", "),
        )
    }

    /// The SQL condition selecting every row the list counts, in any scope.
    fn every_scope_filter(self) -> String {
        let mut parts: Vec<String> = self.condition().map(str::to_owned).into_iter().collect();
        for column in self.scope_columns() {
            parts.push(format!("{column} IS NOT NULL"));
        }
        if parts.is_empty() {
            "TRUE".to_owned()
        } else {
            parts.join(" AND ")
        }
    }
}

/// One instance of a list: the list and the values of its scope columns.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Scope {
    pub list: List,
    pub values: Vec<String>,
}

impl Scope {
    pub(crate) fn new(list: List, values: &[&str]) -> Self {
        Self {
            list,
            values: values.iter().map(|v| (*v).to_owned()).collect(),
        }
    }

    /// The scope stored as (`list`, `text`) in `page_marks`.
    pub(crate) fn from_stored(list: &str, text: &str) -> Option<Self> {
        let list = List::from_name(list)?;
        let values: Vec<String> = if list.scope_columns().is_empty() {
            Vec::new()
        } else {
            text.split('/').map(str::to_owned).collect()
        };
        (values.len() == list.scope_columns().len()).then_some(Self { list, values })
    }

    /// The text stored in `page_marks.scope`.
    pub(crate) fn text(&self) -> String {
        self.values.join("/")
    }

    /// The PostgreSQL advisory lock guarding this scope's marks: a fixed hash (the same on
    /// every node and version) in a range apart from the [`crate::LockKey`] values.
    pub(crate) fn lock_key(&self) -> i64 {
        let mut hash: u32 = 0x811c_9dc5;
        let text = format!("{}\u{0}{}", self.list.name(), self.text());
        for byte in text.bytes() {
            hash ^= u32::from(byte);
            hash = hash.wrapping_mul(0x0100_0193);
        }
        (0x5253_i64 << 32) | i64::from(hash)
    }
}
