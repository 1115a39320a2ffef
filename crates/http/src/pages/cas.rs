//! CAS's answers to the services (XML, escaped by the templates), and its pages' texts.

use super::Lang;
use askama::Template;
use roster_service::CasValidation;

/// `<cas:serviceResponse>` of `serviceValidate` (CAS 2.0) and `p3/serviceValidate` (3.0).
#[derive(Template)]
#[template(path = "cas/service_response.xml")]
pub struct ServiceResponse<'a> {
    pub success: Option<&'a CasValidation>,
    /// The attributes shown (CAS 3.0 only), each with its values.
    pub attributes: Vec<(&'a str, &'a [String])>,
    pub code: &'a str,
    pub description: &'a str,
}

/// `<cas:proxyFailure>`: Roster issues no proxy-granting tickets.
#[derive(Template)]
#[template(path = "cas/proxy_failure.xml")]
pub struct ProxyFailure<'a> {
    pub code: &'a str,
    pub description: &'a str,
}

/// Whether `name` can be an XML element's local name (a claim name may hold `:` or begin
/// with a digit; those attributes are left out of the XML answer, not of the JSON one).
pub fn is_xml_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Why a CAS login cannot go on, in the page's language.
pub fn login_refused(lang: Lang, why: &str) -> String {
    match (lang, why) {
        (Lang::Zh, w) if w.starts_with("service is required") => {
            "缺少 service 参数：接收票据的地址。".to_owned()
        }
        (Lang::Zh, w) if w.starts_with("No CAS application") => {
            "没有 CAS 应用注册此 service 地址。".to_owned()
        }
        (lang, why) => super::sign_in::reason(lang, why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_xml_names_become_elements() {
        assert!(is_xml_name("email") && is_xml_name("org_code") && is_xml_name("a-b.c"));
        assert!(!is_xml_name("1st") && !is_xml_name("ns:x") && !is_xml_name(""));
    }

    #[test]
    fn the_xml_answer_escapes_what_it_shows() {
        let v = CasValidation {
            user: "a<b&c".into(),
            attributes: vec![],
        };
        let values = vec!["x\"<y".to_owned()];
        let page = ServiceResponse {
            success: Some(&v),
            attributes: vec![("email", &values)],
            code: "",
            description: "",
        }
        .render()
        .unwrap();
        assert!(
            page.contains("<cas:user>a&#60;b&#38;c</cas:user>")
                || page.contains("<cas:user>a&lt;b&amp;c</cas:user>"),
            "{page}"
        );
        assert!(!page.contains("x\"<y"), "{page}");
    }
}
