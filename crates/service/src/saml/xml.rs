//! XML as SAML needs it: a small element tree, read from untrusted text with no DTD (so no
//! entity is ever resolved, external or internal) and written in Exclusive XML
//! Canonicalization 1.0 form without comments — the one form Roster signs and checks. What
//! Roster writes is that form from the start, so the bytes sent are the bytes signed.

use std::collections::BTreeMap;

/// The namespaces SAML uses.
pub mod ns {
    pub const PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
    pub const ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
    pub const METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
    pub const DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
    pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
    pub const SOAP: &str = "http://schemas.xmlsoap.org/soap/envelope/";
}

/// Largest document read.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// Deepest nesting read.
const MAX_DEPTH: usize = 64;
/// Most elements read.
const MAX_ELEMENTS: usize = 10_000;

/// An element: its name, the namespaces it declares, attributes and children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// The prefix as written (empty: none).
    pub prefix: String,
    pub name: String,
    /// The namespace the name is in (empty: none).
    pub namespace: String,
    /// The declarations written on it: prefix (empty: the default namespace) and URI.
    pub declarations: Vec<(String, String)>,
    pub attributes: Vec<Attribute>,
    pub children: Vec<Node>,
}

/// An attribute (never a namespace declaration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub prefix: String,
    pub name: String,
    pub namespace: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    Text(String),
}

impl Element {
    /// A new element in `namespace`, written with `prefix`.
    pub fn new(prefix: &str, namespace: &str, name: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
            name: name.to_owned(),
            namespace: namespace.to_owned(),
            declarations: Vec::new(),
            attributes: Vec::new(),
            children: Vec::new(),
        }
    }

    /// Declares the element's own prefix for its namespace on it.
    pub fn declared(mut self) -> Self {
        self.declarations
            .push((self.prefix.clone(), self.namespace.clone()));
        self
    }

    /// With an unprefixed attribute.
    pub fn attr(mut self, name: &str, value: impl Into<String>) -> Self {
        self.attributes.push(Attribute {
            prefix: String::new(),
            name: name.to_owned(),
            namespace: String::new(),
            value: value.into(),
        });
        self
    }

    /// With an unprefixed attribute when there is a value.
    pub fn attr_opt(self, name: &str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.attr(name, v),
            None => self,
        }
    }

    pub fn child(mut self, child: Element) -> Self {
        self.children.push(Node::Element(child));
        self
    }

    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.children.push(Node::Text(text.into()));
        self
    }

    /// Whether this is `name` in `namespace`.
    pub fn is(&self, namespace: &str, name: &str) -> bool {
        self.namespace == namespace && self.name == name
    }

    /// An unprefixed attribute's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.namespace.is_empty() && a.name == name)
            .map(|a| a.value.as_str())
    }

    /// The child elements.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// The first child element `name` in `namespace`.
    pub fn find(&self, namespace: &str, name: &str) -> Option<&Element> {
        self.elements().find(|e| e.is(namespace, name))
    }

    /// Its text content (the text children joined), trimmed.
    pub fn text_content(&self) -> String {
        let mut all = String::new();
        for child in &self.children {
            if let Node::Text(t) = child {
                all.push_str(t);
            }
        }
        all.trim().to_owned()
    }

    /// The canonical form of this element as the apex of a document subset, `inherited`
    /// being the namespaces in scope from its ancestors and `inclusive` the prefixes of an
    /// `InclusiveNamespaces PrefixList`.
    pub fn canonical(&self, inherited: &Scope, inclusive: &[String]) -> String {
        let mut out = String::with_capacity(1024);
        self.write_canonical(&mut out, inherited, &Scope::new(), inclusive, None);
        out
    }

    /// The canonical form with the child element at `skip` (by pointer) left out: the
    /// enveloped-signature transform.
    pub fn canonical_without(
        &self,
        inherited: &Scope,
        inclusive: &[String],
        skip: &Element,
    ) -> String {
        let mut out = String::with_capacity(1024);
        self.write_canonical(&mut out, inherited, &Scope::new(), inclusive, Some(skip));
        out
    }

    /// The whole document as sent: its canonical form.
    pub fn to_xml(&self) -> String {
        self.canonical(&Scope::new(), &[])
    }

    fn write_canonical(
        &self,
        out: &mut String,
        inherited: &Scope,
        rendered: &Scope,
        inclusive: &[String],
        skip: Option<&Element>,
    ) {
        let mut scope = inherited.clone();
        for (prefix, uri) in &self.declarations {
            scope.insert(prefix.clone(), uri.clone());
        }
        // Exclusive C14N §3: the prefixes the element and its attributes use, and those
        // named inclusive, each declared unless an output ancestor declared it the same.
        let mut used: Vec<&str> = vec![self.prefix.as_str()];
        used.extend(
            self.attributes
                .iter()
                .filter(|a| !a.prefix.is_empty())
                .map(|a| a.prefix.as_str()),
        );
        used.extend(
            inclusive
                .iter()
                .map(String::as_str)
                .filter(|p| scope.contains_key(*p)),
        );
        used.sort_unstable();
        used.dedup();
        let mut now_rendered = rendered.clone();
        out.push('<');
        push_qname(out, &self.prefix, &self.name);
        for prefix in used {
            if prefix == "xml" {
                continue;
            }
            let uri = scope.get(prefix).map_or("", String::as_str);
            let before = rendered.get(prefix).map_or("", String::as_str);
            let wanted = if prefix.is_empty() {
                uri != before
            } else {
                !uri.is_empty() && rendered.get(prefix).map(String::as_str) != Some(uri)
            };
            if !wanted {
                continue;
            }
            if prefix.is_empty() {
                out.push_str(" xmlns=\"");
            } else {
                out.push_str(" xmlns:");
                out.push_str(prefix);
                out.push_str("=\"");
            }
            escape_attribute(out, uri);
            out.push('"');
            now_rendered.insert(prefix.to_owned(), uri.to_owned());
        }
        let mut attributes: Vec<&Attribute> = self.attributes.iter().collect();
        attributes.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        for a in attributes {
            out.push(' ');
            push_qname(out, &a.prefix, &a.name);
            out.push_str("=\"");
            escape_attribute(out, &a.value);
            out.push('"');
        }
        out.push('>');
        for child in &self.children {
            match child {
                Node::Text(text) => escape_text(out, text),
                Node::Element(e) if skip.is_some_and(|s| std::ptr::eq(s, e)) => {}
                Node::Element(e) => e.write_canonical(out, &scope, &now_rendered, inclusive, skip),
            }
        }
        out.push_str("</");
        push_qname(out, &self.prefix, &self.name);
        out.push('>');
    }
}

/// Namespaces in scope: prefix (empty: default) to URI.
pub type Scope = BTreeMap<String, String>;

fn push_qname(out: &mut String, prefix: &str, name: &str) {
    if !prefix.is_empty() {
        out.push_str(prefix);
        out.push(':');
    }
    out.push_str(name);
}

fn escape_text(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

fn escape_attribute(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

/// Reads a document: its root element. Refused: a DTD (and so any entity but the five
/// predefined ones), undeclared prefixes, more than one root, documents over the limits.
pub fn parse(text: &str) -> Result<Element, String> {
    use quick_xml::events::Event;
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(format!(
            "the XML document is over {MAX_DOCUMENT_BYTES} bytes"
        ));
    }
    // XML 1.0 §2.11: line ends are read as \n before anything else.
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut reader = quick_xml::Reader::from_str(&text);
    reader.config_mut().expand_empty_elements = true;
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<(Element, Scope)> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    let bad = |e: &dyn std::fmt::Display| format!("the XML is not well-formed: {e}");
    loop {
        let event = reader.read_event().map_err(|e| bad(&e))?;
        match event {
            Event::Start(start) => {
                count += 1;
                if count > MAX_ELEMENTS || stack.len() >= MAX_DEPTH {
                    return Err("the XML document is too large or too deep".to_owned());
                }
                if root.is_some() {
                    return Err(bad(&"content after the root element"));
                }
                let parent_scope = stack.last().map(|(_, s)| s.clone()).unwrap_or_default();
                let (element, scope) = open(&start, parent_scope)?;
                stack.push((element, scope));
            }
            Event::End(_) => {
                let Some((element, _)) = stack.pop() else {
                    return Err(bad(&"an end tag without its start"));
                };
                match stack.last_mut() {
                    Some((parent, _)) => parent.children.push(Node::Element(element)),
                    None => root = Some(element),
                }
            }
            Event::Text(t) => {
                let value = t.unescape().map_err(|e| bad(&e))?;
                match stack.last_mut() {
                    Some((parent, _)) => push_text(parent, &value),
                    None if value.trim().is_empty() => {}
                    None => return Err(bad(&"text outside the root element")),
                }
            }
            Event::CData(c) => {
                let value = std::str::from_utf8(&c).map_err(|e| bad(&e))?.to_owned();
                match stack.last_mut() {
                    Some((parent, _)) => push_text(parent, &value),
                    None => return Err(bad(&"text outside the root element")),
                }
            }
            Event::DocType(_) => {
                return Err("a document type declaration (DTD) is not accepted".to_owned())
            }
            // Processing instructions are refused: nothing SAML sends has one inside.
            Event::PI(_) if !stack.is_empty() => {
                return Err("processing instructions are not accepted".to_owned())
            }
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Empty(_) => return Err(bad(&"unexpected empty element")),
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(bad(&"the document ends inside an element"));
    }
    root.ok_or_else(|| bad(&"no root element"))
}

fn push_text(parent: &mut Element, value: &str) {
    if let Some(Node::Text(last)) = parent.children.last_mut() {
        last.push_str(value);
    } else {
        parent.children.push(Node::Text(value.to_owned()));
    }
}

fn split_qname(qname: &str) -> (&str, &str) {
    match qname.split_once(':') {
        Some((prefix, name)) => (prefix, name),
        None => ("", qname),
    }
}

/// An element from its start tag, and the namespaces in scope inside it.
fn open(
    start: &quick_xml::events::BytesStart<'_>,
    mut scope: Scope,
) -> Result<(Element, Scope), String> {
    let bad = |e: &dyn std::fmt::Display| format!("the XML is not well-formed: {e}");
    let qname = std::str::from_utf8(start.name().as_ref())
        .map_err(|e| bad(&e))?
        .to_owned();
    let mut declarations = Vec::new();
    let mut raw = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| bad(&e))?;
        let key = std::str::from_utf8(attribute.key.as_ref())
            .map_err(|e| bad(&e))?
            .to_owned();
        let literal = std::str::from_utf8(&attribute.value).map_err(|e| bad(&e))?;
        // XML 1.0 §3.3.3: white space characters written in a value are read as spaces.
        let normalized = literal.replace(['\t', '\n'], " ");
        let value = quick_xml::escape::unescape(&normalized)
            .map_err(|e| bad(&e))?
            .into_owned();
        if key == "xmlns" {
            declarations.push((String::new(), value));
        } else if let Some(prefix) = key.strip_prefix("xmlns:") {
            if value.is_empty() {
                return Err(bad(&"a prefix declared with no namespace"));
            }
            declarations.push((prefix.to_owned(), value));
        } else {
            raw.push((key, value));
        }
    }
    for (prefix, uri) in &declarations {
        scope.insert(prefix.clone(), uri.clone());
    }
    let resolve = |prefix: &str| -> Result<String, String> {
        match prefix {
            "xml" => Ok("http://www.w3.org/XML/1998/namespace".to_owned()),
            p => scope
                .get(p)
                .cloned()
                .ok_or_else(|| bad(&format!("the prefix '{p}' is not declared"))),
        }
    };
    let (prefix, name) = split_qname(&qname);
    let namespace = if prefix.is_empty() {
        scope.get("").cloned().unwrap_or_default()
    } else {
        resolve(prefix)?
    };
    let mut attributes = Vec::with_capacity(raw.len());
    for (key, value) in raw {
        let (a_prefix, a_name) = split_qname(&key);
        let a_namespace = if a_prefix.is_empty() {
            String::new()
        } else {
            resolve(a_prefix)?
        };
        if attributes
            .iter()
            .any(|a: &Attribute| a.namespace == a_namespace && a.name == a_name)
        {
            return Err(bad(&format!("the attribute '{key}' is given twice")));
        }
        attributes.push(Attribute {
            prefix: a_prefix.to_owned(),
            name: a_name.to_owned(),
            namespace: a_namespace,
            value,
        });
    }
    let element = Element {
        prefix: prefix.to_owned(),
        name: name.to_owned(),
        namespace,
        declarations,
        attributes,
        children: Vec::new(),
    };
    Ok((element, scope))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c14n(text: &str) -> String {
        parse(text).unwrap().to_xml()
    }

    #[test]
    fn canonical_form_follows_exclusive_c14n() {
        // Attributes sorted by namespace then name; declarations only where used; empty
        // elements written as pairs; values and text escaped as the recommendation says.
        assert_eq!(
            c14n(
                "<?xml version=\"1.0\"?>\n<a:root xmlns:a=\"urn:a\" xmlns:unused=\"urn:u\" \
                 z=\"1\" b=\"x&#xA;y\" a:k=\"&gt;\"><a:e/><b:e xmlns:b=\"urn:b\">t&amp;&lt;\
                 &gt;&#xD;</b:e><!-- gone --></a:root>"
            ),
            "<a:root xmlns:a=\"urn:a\" b=\"x&#xA;y\" z=\"1\" a:k=\">\"><a:e></a:e>\
             <b:e xmlns:b=\"urn:b\">t&amp;&lt;&gt;&#xD;</b:e></a:root>"
        );
        // A default namespace, and one undone.
        assert_eq!(
            c14n("<r xmlns=\"urn:x\"><s xmlns=\"\"><t/></s></r>"),
            "<r xmlns=\"urn:x\"><s xmlns=\"\"><t></t></s></r>"
        );
        // Literal white space in attribute values is read as spaces; CR LF as LF.
        assert_eq!(
            c14n("<r a=\"1\t2\n3\">x\r\ny</r>"),
            "<r a=\"1 2 3\">x\ny</r>"
        );
    }

    #[test]
    fn a_subtree_declares_what_it_uses_from_its_ancestors() {
        let root =
            parse("<p:r xmlns:p=\"urn:p\" xmlns:q=\"urn:q\"><q:s><p:t q:a=\"1\"/></q:s></p:r>")
                .unwrap();
        let mut scope = Scope::new();
        scope.insert("p".into(), "urn:p".into());
        scope.insert("q".into(), "urn:q".into());
        let s = root.elements().next().unwrap();
        assert_eq!(
            s.canonical(&scope, &[]),
            "<q:s xmlns:q=\"urn:q\"><p:t xmlns:p=\"urn:p\" q:a=\"1\"></p:t></q:s>"
        );
        assert_eq!(
            s.canonical(&scope, &["p".to_owned()]),
            "<q:s xmlns:p=\"urn:p\" xmlns:q=\"urn:q\"><p:t q:a=\"1\"></p:t></q:s>"
        );
    }

    #[test]
    fn dtds_and_entities_are_refused() {
        let xxe = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\
                   <r>&x;</r>";
        assert!(parse(xxe).unwrap_err().contains("DTD"));
        assert!(parse("<r>&x;</r>").is_err(), "an undeclared entity");
        assert!(parse("<p:r/>").is_err(), "an undeclared prefix");
        assert!(parse("<r a=\"1\" a=\"2\"/>").is_err());
        assert!(parse("<r/><r/>").is_err());
        assert!(parse("<r>").is_err());
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(parse(&deep).is_err());
    }

    #[test]
    fn what_roster_writes_reads_back_the_same() {
        let e = Element::new("p", "urn:p", "r")
            .declared()
            .attr("b", "\"<&\t")
            .attr("a", "1")
            .child(Element::new("p", "urn:p", "c").text("x<y&z>\r"));
        let written = e.to_xml();
        assert_eq!(parse(&written).unwrap().to_xml(), written);
    }
}
