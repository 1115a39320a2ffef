//! XML signatures as SAML uses them (XML-DSig 1.1, SAML core §5): enveloped, Exclusive C14N,
//! RSA-SHA256 (or -SHA512) over a SHA-256 (or -512) digest, the certificate in `KeyInfo`; and
//! the HTTP-Redirect binding's signature over the query (bindings §3.4.4.1). The arithmetic is
//! OpenSSL's; what is owned here is which element is signed and which is checked.
//!
//! A signed request is accepted only in one shape, which is what defeats signature wrapping:
//! one `Signature`, a child of the root, with one `Reference` to the root's `ID`, that ID
//! given to no other element, and the root itself (the element checked) is what is read.

use super::xml::{ns, Element, Node, Scope};
use crate::keys::Credential;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use openssl::hash::MessageDigest;
use openssl::pkey::{HasPublic, PKey, Private, Public};
use openssl::sign::{Signer, Verifier};
use roster_domain::saml::SignatureAlgorithm;

const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
const SHA512: &str = "http://www.w3.org/2001/04/xmlenc#sha512";

fn digest_of(algorithm: SignatureAlgorithm) -> MessageDigest {
    match algorithm {
        SignatureAlgorithm::RsaSha256 => MessageDigest::sha256(),
        SignatureAlgorithm::RsaSha512 => MessageDigest::sha512(),
    }
}

fn digest_uri(algorithm: SignatureAlgorithm) -> &'static str {
    match algorithm {
        SignatureAlgorithm::RsaSha256 => SHA256,
        SignatureAlgorithm::RsaSha512 => SHA512,
    }
}

/// An RSA PKCS#1 v1.5 signature of `data`.
pub fn rsa_sign(
    key: &PKey<Private>,
    algorithm: SignatureAlgorithm,
    data: &[u8],
) -> Result<Vec<u8>, openssl::error::ErrorStack> {
    let mut signer = Signer::new(digest_of(algorithm), key)?;
    signer.update(data)?;
    signer.sign_to_vec()
}

fn rsa_verify<T: HasPublic>(
    key: &PKey<T>,
    algorithm: SignatureAlgorithm,
    data: &[u8],
    signature: &[u8],
) -> bool {
    Verifier::new(digest_of(algorithm), key)
        .and_then(|mut v| {
            v.update(data)?;
            v.verify(signature)
        })
        .unwrap_or(false)
}

fn ds(name: &str) -> Element {
    Element::new("ds", ns::DSIG, name)
}

fn algorithm_element(name: &str, uri: &str) -> Element {
    ds(name).attr("Algorithm", uri)
}

/// Signs `element` (which declares the namespaces it uses and carries `ID`), inserting the
/// enveloped `Signature` after its first child (the `Issuer`, as SAML's schema places it).
pub fn sign_enveloped(
    element: &mut Element,
    credential: &Credential,
    algorithm: SignatureAlgorithm,
) -> Result<(), openssl::error::ErrorStack> {
    let id = element.get("ID").unwrap_or_default().to_owned();
    let digest = openssl::hash::hash(
        digest_of(algorithm),
        element.canonical(&Scope::new(), &[]).as_bytes(),
    )?;
    let signed_info = ds("SignedInfo")
        .child(algorithm_element("CanonicalizationMethod", ns::EXC_C14N))
        .child(algorithm_element("SignatureMethod", algorithm.uri()))
        .child(
            ds("Reference")
                .attr("URI", format!("#{id}"))
                .child(
                    ds("Transforms")
                        .child(algorithm_element("Transform", ENVELOPED))
                        .child(algorithm_element("Transform", ns::EXC_C14N)),
                )
                .child(algorithm_element("DigestMethod", digest_uri(algorithm)))
                .child(ds("DigestValue").text(STANDARD.encode(digest))),
        );
    let mut scope = Scope::new();
    scope.insert("ds".to_owned(), ns::DSIG.to_owned());
    let value = rsa_sign(
        &credential.key,
        algorithm,
        signed_info.canonical(&scope, &[]).as_bytes(),
    )?;
    let signature = ds("Signature")
        .declared()
        .child(signed_info)
        .child(ds("SignatureValue").text(STANDARD.encode(value)))
        .child(
            ds("KeyInfo").child(
                ds("X509Data")
                    .child(ds("X509Certificate").text(STANDARD.encode(&credential.certificate))),
            ),
        );
    let at = usize::from(!element.children.is_empty());
    element.children.insert(at, Node::Element(signature));
    Ok(())
}

/// Whether `root` carries an enveloped signature at all.
pub fn is_signed(root: &Element) -> bool {
    root.find(ns::DSIG, "Signature").is_some()
}

/// Checks `root`'s enveloped signature with `key`: `Ok` only if it is the one accepted shape
/// and the signature and digest hold.
pub fn verify_enveloped(root: &Element, key: &PKey<Public>) -> Result<(), &'static str> {
    let mut signatures = root.elements().filter(|e| e.is(ns::DSIG, "Signature"));
    let signature = signatures.next().ok_or("the message is not signed")?;
    if signatures.next().is_some() {
        return Err("the message carries more than one signature");
    }
    let id = root.get("ID").ok_or("the signed element has no ID")?;
    if count_ids(root, id) != 1 {
        return Err("the signed element's ID is not unique in the message");
    }
    let signed_info = only(signature, "SignedInfo")?;
    let canonicalization = only(signed_info, "CanonicalizationMethod")?;
    if canonicalization.get("Algorithm") != Some(ns::EXC_C14N) {
        return Err("only Exclusive XML Canonicalization (without comments) is accepted");
    }
    let algorithm = SignatureAlgorithm::from_uri(
        only(signed_info, "SignatureMethod")?
            .get("Algorithm")
            .unwrap_or_default(),
    )
    .ok_or("the signature algorithm is not RSA-SHA256 or RSA-SHA512")?;
    let mut references = signed_info
        .elements()
        .filter(|e| e.is(ns::DSIG, "Reference"));
    let reference = references
        .next()
        .ok_or("the signature references nothing")?;
    if references.next().is_some() {
        return Err("the signature references more than one element");
    }
    if reference.get("URI") != Some(&format!("#{id}")) {
        return Err("the signature does not reference the message's root element");
    }
    let transforms: Vec<&Element> = only(reference, "Transforms")?
        .elements()
        .filter(|e| e.is(ns::DSIG, "Transform"))
        .collect();
    let [enveloped, exclusive] = transforms[..] else {
        return Err("the reference's transforms are not enveloped-signature then Exclusive C14N");
    };
    if enveloped.get("Algorithm") != Some(ENVELOPED)
        || exclusive.get("Algorithm") != Some(ns::EXC_C14N)
    {
        return Err("the reference's transforms are not enveloped-signature then Exclusive C14N");
    }
    let digest_algorithm = match only(reference, "DigestMethod")?.get("Algorithm") {
        Some(SHA256) => MessageDigest::sha256(),
        Some(SHA512) => MessageDigest::sha512(),
        _ => return Err("the digest algorithm is not SHA-256 or SHA-512"),
    };
    let expected = STANDARD
        .decode(strip_space(&only(reference, "DigestValue")?.text_content()))
        .map_err(|_| "the digest value is not base64")?;
    let canonical = root.canonical_without(&Scope::new(), &inclusive(exclusive), signature);
    let digest = openssl::hash::hash(digest_algorithm, canonical.as_bytes())
        .map_err(|_| "the digest could not be computed")?;
    if digest.as_ref() != expected.as_slice() {
        return Err("the digest does not match: the message was changed after it was signed");
    }
    let value = STANDARD
        .decode(strip_space(
            &only(signature, "SignatureValue")?.text_content(),
        ))
        .map_err(|_| "the signature value is not base64")?;
    let mut scope = Scope::new();
    for (prefix, uri) in root.declarations.iter().chain(&signature.declarations) {
        scope.insert(prefix.clone(), uri.clone());
    }
    let signed = signed_info.canonical(&scope, &inclusive(canonicalization));
    if !rsa_verify(key, algorithm, signed.as_bytes(), &value) {
        return Err("the signature does not verify with the application's certificate");
    }
    Ok(())
}

/// The one child `name` of a signature element.
fn only<'a>(parent: &'a Element, name: &'static str) -> Result<&'a Element, &'static str> {
    let mut found = parent.elements().filter(|e| e.is(ns::DSIG, name));
    match (found.next(), found.next()) {
        (Some(one), None) => Ok(one),
        _ => Err("the signature is not in the accepted form"),
    }
}

/// An Exclusive C14N element's `InclusiveNamespaces PrefixList`.
fn inclusive(method: &Element) -> Vec<String> {
    method
        .find(ns::EXC_C14N, "InclusiveNamespaces")
        .and_then(|e| e.get("PrefixList"))
        .map(|list| {
            list.split_whitespace()
                .map(|p| if p == "#default" { "" } else { p }.to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn strip_space(text: &str) -> String {
    text.chars().filter(|c| !c.is_ascii_whitespace()).collect()
}

fn count_ids(element: &Element, id: &str) -> usize {
    let own = element
        .attributes
        .iter()
        .filter(|a| a.name.eq_ignore_ascii_case("id") && a.value == id)
        .count();
    own + element
        .elements()
        .map(|child| count_ids(child, id))
        .sum::<usize>()
}

/// The HTTP-Redirect binding's signature (bindings §3.4.4.1): over
/// `SAMLRequest=…&RelayState=…&SigAlg=…` as they appear, still URL-encoded, in `raw_query`.
/// `Ok(false)`: the query carries no signature.
pub fn verify_query(
    raw_query: &str,
    message: &str,
    key: &PKey<Public>,
) -> Result<bool, &'static str> {
    let raw = |name: &str| {
        raw_query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == name).then_some(v)
        })
    };
    let Some(signature) = raw("Signature") else {
        return Ok(false);
    };
    let sig_alg = raw("SigAlg").ok_or("Signature is given without SigAlg")?;
    let decode = |v: &str| {
        form_urlencoded::parse(format!("v={v}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let algorithm = SignatureAlgorithm::from_uri(&decode(sig_alg))
        .ok_or("SigAlg is not RSA-SHA256 or RSA-SHA512")?;
    let value = STANDARD
        .decode(strip_space(&decode(signature)))
        .map_err(|_| "Signature is not base64")?;
    let mut signed = format!("{message}={}", raw(message).unwrap_or_default());
    if let Some(relay_state) = raw("RelayState") {
        signed.push_str(&format!("&RelayState={relay_state}"));
    }
    signed.push_str(&format!("&SigAlg={sig_alg}"));
    if rsa_verify(key, algorithm, signed.as_bytes(), &value) {
        Ok(true)
    } else {
        Err("the query's signature does not verify with the application's certificate")
    }
}

/// Signs an HTTP-Redirect binding query (`SAMLResponse=…[&RelayState=…]`, URL-encoded) and
/// gives it back with `SigAlg` and `Signature`.
pub fn sign_query(
    query: &str,
    credential: &Credential,
    algorithm: SignatureAlgorithm,
) -> Result<String, openssl::error::ErrorStack> {
    let signed: String = form_urlencoded::Serializer::new(query.to_owned())
        .append_pair("SigAlg", algorithm.uri())
        .finish();
    let value = rsa_sign(&credential.key, algorithm, signed.as_bytes())?;
    Ok(form_urlencoded::Serializer::new(signed)
        .append_pair("Signature", &STANDARD.encode(value))
        .finish())
}

/// The public key of a certificate given as PEM or bare base64 DER (as metadata carries it).
pub fn certificate_key(text: &str) -> Result<PKey<Public>, String> {
    let text = text.trim();
    let x509 = if text.starts_with("-----BEGIN") {
        openssl::x509::X509::from_pem(text.as_bytes())
    } else {
        let der = STANDARD
            .decode(strip_space(text))
            .map_err(|_| "the certificate is neither PEM nor base64 DER".to_owned())?;
        openssl::x509::X509::from_der(&der)
    }
    .map_err(|_| "the certificate cannot be read as X.509".to_owned())?;
    let key = x509
        .public_key()
        .map_err(|_| "the certificate's public key cannot be read".to_owned())?;
    if key.rsa().is_err() {
        return Err("the certificate's key is not an RSA key".to_owned());
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::saml::xml::parse;

    use crate::keys::self_signed_certificate;

    fn credential() -> Credential {
        let rsa = openssl::rsa::Rsa::generate(2048).unwrap();
        let key = PKey::from_rsa(rsa).unwrap();
        let certificate = self_signed_certificate(&key, "kid", 1_700_000_000).unwrap();
        Credential { key, certificate }
    }

    fn public(c: &Credential) -> PKey<Public> {
        certificate_key(&STANDARD.encode(&c.certificate)).unwrap()
    }

    fn request() -> Element {
        Element::new("samlp", ns::PROTOCOL, "AuthnRequest")
            .declared()
            .attr("ID", "_r1")
            .attr("Version", "2.0")
            .child(
                Element::new("saml", ns::ASSERTION, "Issuer")
                    .declared()
                    .text("https://sp.example.com"),
            )
    }

    #[test]
    fn a_signed_element_verifies_after_a_round_trip_and_not_once_changed() {
        let c = credential();
        let mut signed = request();
        sign_enveloped(&mut signed, &c, SignatureAlgorithm::RsaSha256).unwrap();
        let text = signed.to_xml();
        let read = parse(&text).unwrap();
        assert_eq!(verify_enveloped(&read, &public(&c)), Ok(()));
        let changed = parse(&text.replace("sp.example.com", "evil.example.com")).unwrap();
        assert!(verify_enveloped(&changed, &public(&c))
            .unwrap_err()
            .contains("digest"));
        let other = credential();
        assert!(verify_enveloped(&read, &public(&other)).is_err());
        // The same certificate from the same key and time: every node agrees.
        assert_eq!(
            self_signed_certificate(&c.key, "kid", 1_700_000_000).unwrap(),
            c.certificate
        );
    }

    #[test]
    fn a_wrapped_signature_is_refused() {
        let c = credential();
        let mut signed = request();
        sign_enveloped(&mut signed, &c, SignatureAlgorithm::RsaSha256).unwrap();
        // The signed original hidden inside a forged root with the same ID.
        let mut forged = request();
        forged.attributes.retain(|a| a.name != "ID");
        let forged = forged.attr("ID", "_r1").child(signed.clone());
        assert!(verify_enveloped(&forged, &public(&c)).is_err());
        // A forged root of another ID carrying the original's signature.
        let mut other = request();
        other.attributes.retain(|a| a.name != "ID");
        let signature = signed
            .elements()
            .find(|e| e.is(ns::DSIG, "Signature"))
            .cloned()
            .unwrap();
        let other = other.attr("ID", "_r2").child(signature);
        assert!(verify_enveloped(&other, &public(&c)).is_err());
    }

    #[test]
    fn a_query_signature_covers_the_message_and_relay_state() {
        let c = credential();
        let query = "SAMLRequest=abc%2B&RelayState=x%20y";
        let signed = sign_query(query, &c, SignatureAlgorithm::RsaSha256).unwrap();
        assert_eq!(verify_query(&signed, "SAMLRequest", &public(&c)), Ok(true));
        let changed = signed.replace("RelayState=x", "RelayState=z");
        assert!(verify_query(&changed, "SAMLRequest", &public(&c)).is_err());
        assert_eq!(verify_query(query, "SAMLRequest", &public(&c)), Ok(false));
    }
}
