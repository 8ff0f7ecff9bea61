//! rustls configuration for the default client: ring provider, chosen roots, ALPN.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::transport::BuildError;

/// Which certificates the default client trusts.
#[derive(Clone, Debug)]
pub(crate) struct TlsSettings {
    pub(crate) webpki_roots: bool,
    pub(crate) native_roots: bool,
    pub(crate) extra_roots: Vec<CertificateDer<'static>>,
    pub(crate) accept_invalid_certs: bool,
}

#[allow(
    clippy::derivable_impls,
    reason = "the defaults depend on the enabled root features"
)]
impl Default for TlsSettings {
    fn default() -> Self {
        Self {
            webpki_roots: cfg!(feature = "webpki-roots"),
            native_roots: cfg!(feature = "native-roots"),
            extra_roots: Vec::new(),
            accept_invalid_certs: false,
        }
    }
}

/// Parses every certificate in a PEM bundle.
pub(crate) fn certificates_from_pem(
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, BuildError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| BuildError::Tls(err.into()))?;
    if certs.is_empty() {
        return Err(BuildError::Tls("no certificate found in PEM data".into()));
    }
    Ok(certs)
}

/// Builds the rustls client configuration (ring provider, safe default protocol versions).
///
/// Also says whether any server can be trusted at all: with no root certificate (no root
/// feature, no custom root) plain `http://` still works and `https://` fails at send time.
pub(crate) fn client_config(
    settings: &TlsSettings,
) -> Result<(rustls::ClientConfig, bool), BuildError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|err| BuildError::Tls(err.into()))?;
    let mut can_trust = true;
    let config = if settings.accept_invalid_certs {
        tracing::warn!("TLS certificate verification is disabled (danger_accept_invalid_certs)");
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCert {
                algorithms: provider.signature_verification_algorithms,
            }))
            .with_no_client_auth()
    } else {
        let roots = root_store(settings)?;
        can_trust = !roots.is_empty();
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    // ALPN (`h2`, `http/1.1`) is set by hyper-rustls from the enabled HTTP versions.
    Ok((config, can_trust))
}

fn root_store(settings: &TlsSettings) -> Result<RootCertStore, BuildError> {
    let mut roots = RootCertStore::empty();
    #[cfg(feature = "webpki-roots")]
    if settings.webpki_roots {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    #[cfg(feature = "native-roots")]
    if settings.native_roots {
        let native = rustls_native_certs::load_native_certs();
        for error in &native.errors {
            tracing::warn!(%error, "could not load a platform root certificate");
        }
        let (added, ignored) = roots.add_parsable_certificates(native.certs);
        tracing::debug!(added, ignored, "loaded platform root certificates");
    }
    for cert in &settings.extra_roots {
        roots
            .add(cert.clone())
            .map_err(|err| BuildError::Tls(err.into()))?;
    }
    Ok(roots)
}

/// Accepts any server certificate but still checks handshake signatures. Local testing only.
#[derive(Debug)]
struct AcceptAnyCert {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
