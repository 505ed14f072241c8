"""Fakes of a models root for tests of config/ and the layers above: version folders that count
as SavedModels without a TensorFlow export, models.config read back with TF Serving's proto, and
a throw-away PKI (CA, server and client certificates) with the SSLConfig that uses it."""
import pathlib

from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2


def saved_model_folder(path: pathlib.Path) -> pathlib.Path:
    """A folder that counts as a SavedModel for the config writers: they look for saved_model.pb
    only, so tests need no TensorFlow export."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "saved_model.pb").write_bytes(b"")
    return path


def fake_versions(root: pathlib.Path, model: str, *versions: int) -> None:
    """Pushed versions of `model` under `root`, as saved_model_folder."""
    for v in versions:
        saved_model_folder(root / model / str(v))


def parse_written_config(root: pathlib.Path):
    """models.config parsed by TF Serving's proto directly, not by the module under test."""
    return text_format.Parse((root / "models.config").read_text(),
                             model_server_config_pb2.ModelServerConfig())


def _certificate(name: str, key, issuer_name: str, issuer_key, ca: bool, host: bool = False):
    """A PEM certificate for `key` signed by `issuer_key` (self-signed when the same key)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
               .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        usage = ExtendedKeyUsageOID.SERVER_AUTH if host else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if host:
        import ipaddress
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
    return builder.sign(issuer_key, hashes.SHA256()).public_bytes(
        serialization.Encoding.PEM).decode()


def tls_materials() -> dict:
    """A CA, a server certificate for localhost/127.0.0.1 and a client certificate it signed, and
    a client certificate from another CA, all PEM text, made now (the tests' own PKI)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    def new_key():
        return ec.generate_private_key(ec.SECP256R1())

    def pem(key):
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()

    ca_key, rogue_key, server_key, client_key, stranger_key = (new_key() for _ in range(5))
    return {
        "ca": _certificate("tfxp test CA", ca_key, "tfxp test CA", ca_key, ca=True),
        "server_key": pem(server_key),
        "server_cert": _certificate("localhost", server_key, "tfxp test CA", ca_key, ca=False,
                                    host=True),
        "client_key": pem(client_key),
        "client_cert": _certificate("client", client_key, "tfxp test CA", ca_key, ca=False),
        "stranger_key": pem(stranger_key),
        "stranger_cert": _certificate("stranger", stranger_key, "rogue CA", rogue_key, ca=False),
    }


def write_ssl_config(path: pathlib.Path, materials: dict, client_verify: bool) -> pathlib.Path:
    """An SSLConfig text proto (--ssl_config_file) holding `materials`' server pair and CA."""
    from serving.config import protos
    config = protos.SSLConfig(server_key=materials["server_key"],
                              server_cert=materials["server_cert"], custom_ca=materials["ca"],
                              client_verify=client_verify)
    path.write_text(text_format.MessageToString(config))
    return path
