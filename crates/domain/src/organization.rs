//! Organizations of the tenant directory (the tree users belong to).

use crate::time::Millis;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: String,
    pub code: String,
    pub name: String,
    pub parent_id: Option<String>,
    pub category: String,
    pub created_at: Millis,
    pub updated_at: Millis,
}
