//! Users of the tenant directory.

use crate::time::Millis;
use crate::{validate, Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub const MAX_USER_NAME_CHARS: usize = 64;
pub const MAX_TEXT_CHARS: usize = 255;
pub const MAX_PASSWORD_CHARS: usize = 128;
/// Shortest user password accepted, until a configurable password policy replaces it (the
/// reference's own example password has 8 characters).
pub const MIN_PASSWORD_CHARS: usize = 8;

/// What makes two user names the same name: compared after Unicode compatibility
/// normalization (NFKC: full-width letters, ligatures, composed and decomposed accents are
/// one) and without case (`ZhangSan` is `zhangsan`). Unique in the directory.
pub fn user_name_key(user_name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let folded: String = user_name.nfkc().collect::<String>().to_lowercase();
    folded.nfkc().collect()
}

/// What makes two mobile numbers the same number: their digits (`138-0000-0001`,
/// `+13800000001` and `13800000001` are one). Unique in the directory; the number is still
/// returned as it was given.
pub fn mobile_key(mobile: &str) -> String {
    mobile.chars().filter(char::is_ascii_digit).collect()
}

/// The mobile key a login name may be: only for names made of a phone number's characters,
/// so that `alice7` never matches the user whose mobile is `7`.
pub fn login_mobile_key(login: &str) -> Option<String> {
    let phone_like = login
        .chars()
        .all(|c| c.is_ascii_digit() || " +-()".contains(c));
    let key = mobile_key(login);
    (phone_like && key.len() >= 5).then_some(key)
}

/// One key for every spelling of a login name the lookup takes as the same (a mobile with or
/// without dashes, an email in any case, a user name in any width): wrong passwords for a
/// name nobody has are counted under it, as a user's are counted whatever they typed.
pub fn login_key(login: &str) -> String {
    if let Some(mobile) = login_mobile_key(login) {
        format!("mobile:{mobile}")
    } else if login.contains('@') {
        format!("email:{}", login.to_lowercase())
    } else {
        format!("name:{}", user_name_key(login))
    }
}

/// The optional personal attributes (`attr_*` fields of the reference).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserAttrs {
    pub gender: Option<String>,
    pub birthday: Option<String>,
    pub nick_name: Option<String>,
    pub identity_type: Option<String>,
    pub identity_number: Option<String>,
    pub area: Option<String>,
    pub city: Option<String>,
    pub manager_id: Option<String>,
    pub user_type: Option<String>,
    pub hire_date: Option<String>,
    pub work_place: Option<String>,
}

/// A user's id.
pub type UserId = crate::id::Id<User>;

/// A stored user. The password is kept only as an Argon2id PHC string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub org_id: Option<String>,
    pub user_name: String,
    pub mobile: String,
    pub name: String,
    pub email: Option<String>,
    pub employee_id: Option<String>,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub password_hash: Option<String>,
    pub pwd_must_modify: bool,
    pub pwd_change_at: Option<Millis>,
    pub attrs: UserAttrs,
    pub extension: Option<Map<String, Value>>,
    /// Organizations the user is attached to besides the home one (relation type "1").
    #[serde(default)]
    pub secondary_org_ids: Vec<String>,
    pub disabled: bool,
    pub locked: bool,
    pub grade: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// The body of `CreateUser` (and, all optional, of `UpdateUser`), as the client sent it.
/// Unknown fields are ignored, as the reference's own server does.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserFields {
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub user_name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(min_length = 3, max_length = 32))]
    pub mobile: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 128))]
    pub password: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub org_code: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 255))]
    pub name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 255))]
    pub email: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 255))]
    pub employee_id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 255))]
    pub first_name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 255))]
    pub middle_name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 255))]
    pub last_name: Option<String>,
    pub pwd_must_modify: Option<bool>,
    pub attr_gender: Option<String>,
    #[cfg_attr(feature = "openapi", schema(format = Date))]
    pub attr_birthday: Option<String>,
    pub attr_nick_name: Option<String>,
    pub attr_identity_type: Option<String>,
    pub attr_identity_number: Option<String>,
    pub attr_area: Option<String>,
    pub attr_city: Option<String>,
    pub attr_manager_id: Option<String>,
    pub attr_user_type: Option<String>,
    #[cfg_attr(feature = "openapi", schema(format = Date))]
    pub attr_hire_date: Option<String>,
    pub attr_work_place: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<Object>>))]
    pub user_org_relation_list: Option<Vec<Value>>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub extension: Option<Map<String, Value>>,
}

/// A validated `CreateUser` request; the password is still plain text, to be hashed by the
/// service off the async runtime.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub user_name: String,
    pub mobile: String,
    pub password: Option<String>,
    pub org_code: Option<String>,
    pub name: String,
    pub email: Option<String>,
    pub employee_id: Option<String>,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub pwd_must_modify: bool,
    pub attrs: UserAttrs,
    pub org_relations: Option<Vec<OrgRelation>>,
    pub extension: Option<Map<String, Value>>,
}

impl NewUser {
    /// The user this request creates at `now`: in organization `org_id`, with the secondary
    /// organizations `secondary_org_ids` (both checked by the caller), enabled, with
    /// `password_hash` (the password, hashed off the async runtime) if one was given.
    pub fn into_user(
        self,
        org_id: Option<String>,
        secondary_org_ids: Vec<String>,
        password_hash: Option<String>,
        now: Millis,
    ) -> User {
        User {
            id: UserId::generate(now),
            org_id,
            user_name: self.user_name,
            mobile: self.mobile,
            name: self.name,
            email: self.email,
            employee_id: self.employee_id,
            first_name: self.first_name,
            middle_name: self.middle_name,
            last_name: self.last_name,
            pwd_change_at: password_hash.as_ref().map(|_| now),
            password_hash,
            pwd_must_modify: self.pwd_must_modify,
            attrs: self.attrs,
            extension: self.extension,
            secondary_org_ids,
            disabled: false,
            locked: false,
            grade: 0,
            created_at: now,
            updated_at: now,
        }
    }
}

fn text(field: &str, value: Option<String>) -> Result<Option<String>> {
    validate::optional(field, value, MAX_TEXT_CHARS)
}

fn date(field: &str, value: Option<String>) -> Result<Option<String>> {
    let value = text(field, value)?;
    if let Some(v) = &value {
        validate::date(field, v)?;
    }
    Ok(value)
}

/// How a user relates to an organization in `user_org_relation_list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelationType {
    /// `"0"`: the user belongs to it (the home organization, `org_id`).
    Home,
    /// `"1"`: the user is attached to it besides the home organization.
    Secondary,
}

impl RelationType {
    pub fn code(self) -> &'static str {
        match self {
            Self::Home => "0",
            Self::Secondary => "1",
        }
    }
}

/// One entry of `user_org_relation_list`: `{"org_id", "relation_type"}`. A `relation_type`
/// left out is decided by the service: home if it names the home organization, else secondary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRelation {
    pub org_id: String,
    pub relation_type: Option<RelationType>,
}

pub const MAX_ORG_RELATIONS: usize = 100;

/// Reads `user_org_relation_list`: objects with an `org_id` and an optional `relation_type`
/// (`"0"`/`"1"`, also as numbers).
fn org_relations(list: Option<Vec<Value>>) -> Result<Option<Vec<OrgRelation>>> {
    let Some(list) = list else { return Ok(None) };
    if list.len() > MAX_ORG_RELATIONS {
        return Err(Error::invalid(format!(
            "user_org_relation_list holds at most {MAX_ORG_RELATIONS} entries."
        )));
    }
    let shape = || {
        Error::invalid(
            "user_org_relation_list entries are {\"org_id\": \"…\", \"relation_type\": \"0\" (home) or \"1\" (secondary)}.",
        )
    };
    list.into_iter()
        .map(|entry| {
            let org_id = entry
                .get("org_id")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|id| !id.is_empty() && id.len() <= 64)
                .ok_or_else(shape)?
                .to_owned();
            let relation_type = match entry.get("relation_type") {
                None | Some(Value::Null) => None,
                Some(v) => Some(match (v.as_str(), v.as_i64()) {
                    (Some("0"), _) | (_, Some(0)) => RelationType::Home,
                    (Some("1"), _) | (_, Some(1)) => RelationType::Secondary,
                    _ => return Err(shape()),
                }),
            };
            Ok(OrgRelation {
                org_id,
                relation_type,
            })
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// The secondary organizations a `user_org_relation_list` names, for a user whose home
/// organization is `home`. A `"0"` entry must name the home organization; with `home_required`
/// (UpdateUser, as the reference asks) the list must name it too.
pub fn secondary_organizations(
    home: Option<&str>,
    list: &[OrgRelation],
    home_required: bool,
) -> Result<Vec<String>> {
    let mut secondary: Vec<String> = Vec::new();
    for entry in list {
        let is_home = home == Some(entry.org_id.as_str());
        match (is_home, entry.relation_type) {
            (true, None | Some(RelationType::Home)) => {}
            (true, Some(RelationType::Secondary)) => {
                return Err(Error::invalid(format!(
                    "user_org_relation_list: {} is the home organization; its relation_type is \"0\".",
                    entry.org_id
                )))
            }
            (false, Some(RelationType::Home)) => {
                return Err(Error::invalid(format!(
                    "user_org_relation_list: relation_type \"0\" (belongs to) must name the home organization, not {}; set org_code to change it.",
                    entry.org_id
                )))
            }
            (false, _) => {
                if !secondary.contains(&entry.org_id) {
                    secondary.push(entry.org_id.clone());
                }
            }
        }
    }
    secondary.sort();
    if let Some(home) = home {
        if home_required && !list.iter().any(|e| e.org_id == home) {
            return Err(Error::invalid(format!(
                "user_org_relation_list must include the home organization {home} (relation_type \"0\")."
            )));
        }
    }
    Ok(secondary)
}

impl UserAttrs {
    /// Fills every attribute `changes` gives.
    pub fn apply(&mut self, changes: UserAttrs) {
        fn set(slot: &mut Option<String>, v: Option<String>) {
            if v.is_some() {
                *slot = v;
            }
        }
        set(&mut self.gender, changes.gender);
        set(&mut self.birthday, changes.birthday);
        set(&mut self.nick_name, changes.nick_name);
        set(&mut self.identity_type, changes.identity_type);
        set(&mut self.identity_number, changes.identity_number);
        set(&mut self.area, changes.area);
        set(&mut self.city, changes.city);
        set(&mut self.manager_id, changes.manager_id);
        set(&mut self.user_type, changes.user_type);
        set(&mut self.hire_date, changes.hire_date);
        set(&mut self.work_place, changes.work_place);
    }
}

pub fn validate_password(password: Option<String>) -> Result<Option<String>> {
    match password {
        Some(p) if !p.is_empty() => {
            let chars = p.chars().count();
            if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
                return Err(Error::invalid(format!(
                    "password must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters."
                )));
            }
            Ok(Some(p))
        }
        _ => Ok(None),
    }
}

/// A validated `UpdateUser`: `None` keeps the value.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub user_name: Option<String>,
    pub mobile: Option<String>,
    pub org_code: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub employee_id: Option<String>,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub pwd_must_modify: Option<bool>,
    pub attrs: UserAttrs,
    pub org_relations: Option<Vec<OrgRelation>>,
    pub extension: Option<Map<String, Value>>,
}

/// Body of `UpdateUserPwd` and `UpdateUserPwdWithOldPwd`.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasswordFields {
    #[cfg_attr(feature = "openapi", schema(max_length = 128))]
    pub password: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 128))]
    pub old_password: Option<String>,
    pub pwd_must_modify: Option<bool>,
}

/// Body of `ShowUserByUserName`.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserNameFields {
    #[cfg_attr(feature = "openapi", schema(max_length = 255))]
    pub user_name: Option<String>,
}

impl PasswordFields {
    pub fn new_password(&self) -> Result<String> {
        validate_password(self.password.clone())?
            .ok_or_else(|| Error::invalid("password is required."))
    }
}

impl UserFields {
    /// Checks an `UpdateUser` body: every field optional, each in shape when given.
    pub fn into_changes(self) -> Result<UserChanges> {
        let user_name = validate::optional("user_name", self.user_name, MAX_USER_NAME_CHARS)?;
        if let Some(u) = &user_name {
            validate::identifier("user_name", u)?;
        }
        let mobile = validate::optional("mobile", self.mobile, 32)?;
        if let Some(m) = &mobile {
            validate::mobile(m)?;
        }
        let email = text("email", self.email)?;
        if let Some(e) = &email {
            validate::email(e)?;
        }
        let org_relations = org_relations(self.user_org_relation_list)?;
        Ok(UserChanges {
            user_name,
            mobile,
            org_code: validate::optional("org_code", self.org_code, 64)?,
            name: text("name", self.name)?,
            email,
            employee_id: text("employee_id", self.employee_id)?,
            first_name: text("first_name", self.first_name)?,
            middle_name: text("middle_name", self.middle_name)?,
            last_name: text("last_name", self.last_name)?,
            pwd_must_modify: self.pwd_must_modify,
            attrs: UserAttrs {
                gender: text("attr_gender", self.attr_gender)?,
                birthday: date("attr_birthday", self.attr_birthday)?,
                nick_name: text("attr_nick_name", self.attr_nick_name)?,
                identity_type: text("attr_identity_type", self.attr_identity_type)?,
                identity_number: text("attr_identity_number", self.attr_identity_number)?,
                area: text("attr_area", self.attr_area)?,
                city: text("attr_city", self.attr_city)?,
                manager_id: text("attr_manager_id", self.attr_manager_id)?,
                user_type: text("attr_user_type", self.attr_user_type)?,
                hire_date: date("attr_hire_date", self.attr_hire_date)?,
                work_place: text("attr_work_place", self.attr_work_place)?,
            },
            org_relations,
            extension: validate::extension(self.extension)?,
        })
    }

    /// Checks a `CreateUser` body: `user_name` and `mobile` required, every field in shape.
    pub fn into_new_user(self) -> Result<NewUser> {
        let user_name = validate::required("user_name", self.user_name, MAX_USER_NAME_CHARS)?;
        validate::identifier("user_name", &user_name)?;
        let mobile = validate::required("mobile", self.mobile, 32)?;
        validate::mobile(&mobile)?;
        let email = text("email", self.email)?;
        if let Some(e) = &email {
            validate::email(e)?;
        }
        let name = text("name", self.name)?.unwrap_or_else(|| user_name.clone());
        let org_relations = org_relations(self.user_org_relation_list)?;
        Ok(NewUser {
            password: validate_password(self.password)?,
            org_code: validate::optional("org_code", self.org_code, 64)?,
            name,
            email,
            employee_id: text("employee_id", self.employee_id)?,
            first_name: text("first_name", self.first_name)?,
            middle_name: text("middle_name", self.middle_name)?,
            last_name: text("last_name", self.last_name)?,
            pwd_must_modify: self.pwd_must_modify.unwrap_or(true),
            attrs: UserAttrs {
                gender: text("attr_gender", self.attr_gender)?,
                birthday: date("attr_birthday", self.attr_birthday)?,
                nick_name: text("attr_nick_name", self.attr_nick_name)?,
                identity_type: text("attr_identity_type", self.attr_identity_type)?,
                identity_number: text("attr_identity_number", self.attr_identity_number)?,
                area: text("attr_area", self.attr_area)?,
                city: text("attr_city", self.attr_city)?,
                manager_id: text("attr_manager_id", self.attr_manager_id)?,
                user_type: text("attr_user_type", self.attr_user_type)?,
                hire_date: date("attr_hire_date", self.attr_hire_date)?,
                work_place: text("attr_work_place", self.attr_work_place)?,
            },
            org_relations,
            extension: validate::extension(self.extension)?,
            user_name,
            mobile,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_phone_like_names_are_looked_up_as_mobiles() {
        assert_eq!(
            login_mobile_key("+86 138-0000-0001").as_deref(),
            Some("8613800000001")
        );
        assert_eq!(login_mobile_key("alice7"), None);
        assert_eq!(login_mobile_key("123"), None);
    }

    #[test]
    fn every_spelling_of_a_login_has_one_key() {
        assert_eq!(login_key("138-0000-0001"), login_key("13800000001"));
        assert_eq!(login_key("Bob@Example.com"), login_key("bob@example.com"));
        assert_eq!(login_key("ＢＯＢ"), login_key("bob"));
        assert_ne!(login_key("bob"), login_key("bob@example.com"));
    }

    fn relations(list: serde_json::Value) -> Result<Vec<OrgRelation>> {
        let list = serde_json::from_value(list).map_err(|e| Error::invalid(e.to_string()))?;
        Ok(org_relations(Some(list))?.unwrap())
    }

    #[test]
    fn relation_lists_name_home_and_secondary_organizations() {
        let list = relations(serde_json::json!([
            {"org_id": "H", "relation_type": "0"},
            {"org_id": "A", "relation_type": "1"},
            {"org_id": "B", "relation_type": 1},
            {"org_id": "A"}
        ]));
        let list = list.unwrap();
        assert_eq!(list.len(), 4);
        let secondary = secondary_organizations(Some("H"), &list, true).ok();
        assert_eq!(secondary, Some(vec!["A".to_owned(), "B".to_owned()]));
        // UpdateUser: the home organization must be in the list.
        let without_home = list[1..].to_vec();
        assert!(secondary_organizations(Some("H"), &without_home, true).is_err());
        assert!(secondary_organizations(Some("H"), &without_home, false).is_ok());
        // "0" names only the home organization; the home organization is never "1".
        assert!(secondary_organizations(Some("A"), &list, false).is_err());
        let home_as_secondary =
            relations(serde_json::json!([{"org_id": "H", "relation_type": "1"}]));
        assert!(secondary_organizations(Some("H"), &home_as_secondary.unwrap(), false).is_err());
        for bad in [
            serde_json::json!([{"relation_type": "1"}]),
            serde_json::json!([{"org_id": 5}]),
            serde_json::json!([{"org_id": "A", "relation_type": "2"}]),
            serde_json::json!(["A"]),
        ] {
            assert!(relations(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn look_alike_names_and_numbers_share_a_key() {
        let plain = user_name_key("zhangsan");
        for alike in ["ZhangSan", "ｚｈａｎｇｓａｎ", "ZHANGSAN"] {
            assert_eq!(user_name_key(alike), plain, "{alike}");
        }
        assert_eq!(user_name_key("Jose\u{301}"), user_name_key("José"));
        assert_ne!(user_name_key("zhangsan2"), plain);
        for alike in ["13800000001", "+13800000001", "138-0000-0001"] {
            assert_eq!(mobile_key(alike), "13800000001");
        }
    }

    #[test]
    fn invisible_and_bidirectional_characters_are_refused_in_names() {
        for name in [
            "zhang\u{200B}san",
            "zhang\u{202E}nas",
            "\u{FEFF}zhangsan",
            "zhang\u{2066}san",
        ] {
            let fields = UserFields {
                user_name: Some(name.to_owned()),
                mobile: Some("13800000000".into()),
                ..Default::default()
            };
            assert!(fields.into_new_user().is_err(), "{name:?}");
        }
    }

    #[test]
    fn create_requires_name_and_mobile_and_defaults() {
        let err = UserFields::default().into_new_user().err();
        assert_eq!(
            err.map(|e| e.client_message()),
            Some("Invalid parameter. user_name is required.".into())
        );
        let u = UserFields {
            user_name: Some("zhangsan".into()),
            mobile: Some("13800000000".into()),
            ..Default::default()
        }
        .into_new_user();
        let u = u.ok();
        assert_eq!(u.as_ref().map(|u| u.name.as_str()), Some("zhangsan"));
        assert_eq!(u.map(|u| u.pwd_must_modify), Some(true));
    }
}
