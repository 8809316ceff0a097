"""Mosquitto with a TLS listener from the generated config: the broker is verified, plain TCP refused."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
import subprocess
from pathlib import Path

import aiomqtt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.broker.brokers import DEVICES, MOSQUITTO, _wait_port, make_accounts
from vakt.broker.embedded import free_port
from vakt.broker.mosquitto import MosquittoTls, write_mosquitto_files
from vakt.protocol import device_password
from vakt.protocol.client import DeviceClient

pytestmark = [pytest.mark.timeout(60), pytest.mark.mosquitto]


def self_signed(folder: Path) -> MosquittoTls:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vakt test broker")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    tls = MosquittoTls(folder / "broker.crt", folder / "broker.key")
    tls.certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    tls.keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return tls


async def test_device_client_over_tls_and_plain_tcp_refused(tmp_path: Path) -> None:
    tls = self_signed(tmp_path)
    port = free_port()
    conf = write_mosquitto_files(make_accounts(), tmp_path / "mosquitto", port, tls=tls)
    proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stderr=subprocess.DEVNULL)
    try:
        _wait_port(port)
        context = ssl.create_default_context(cafile=str(tls.certfile))
        client = DeviceClient(
            serial="CAM0001", password=device_password(DEVICES["CAM0001"]), port=port, tls_context=context
        )
        task = asyncio.create_task(client.run())
        await client.wait_connected(15)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        with pytest.raises(aiomqtt.MqttError):
            async with aiomqtt.Client(
                "127.0.0.1", port, username="CAM0001", password=device_password(DEVICES["CAM0001"]), timeout=2
            ):
                pass
        with pytest.raises(aiomqtt.MqttError):  # an unknown certificate is not trusted
            async with aiomqtt.Client(
                "127.0.0.1",
                port,
                username="CAM0001",
                timeout=2,
                password=device_password(DEVICES["CAM0001"]),
                tls_context=ssl.create_default_context(),
            ):
                pass
    finally:
        proc.kill()
        proc.wait(10)
