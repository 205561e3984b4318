"""Drive Ward's Vault-compatible API with the unmodified hvac 2.4.0 client.

Run by vault_hvac.rs with VAULT_ADDR, WARD_ROLE_ID, WARD_SECRET_ID,
WARD_ROOT_TOKEN and WARD_UNSEAL_KEY set. Exits non-zero on the first
failed check.
"""

import os
import sys

import hvac
from hvac import exceptions


def expect_raises(kind, action, label):
    try:
        action()
    except kind as err:
        return err
    raise AssertionError(f"{label}: expected {kind.__name__}")


def main():
    addr = os.environ["VAULT_ADDR"]
    role_id = os.environ["WARD_ROLE_ID"]
    secret_id = os.environ["WARD_SECRET_ID"]
    root = os.environ["WARD_ROOT_TOKEN"]
    unseal_key = os.environ["WARD_UNSEAL_KEY"]

    bot = hvac.Client(url=addr)
    admin = hvac.Client(url=addr, token=root)

    # System endpoints.
    assert bot.sys.is_initialized() is True
    assert bot.sys.is_sealed() is False
    health = bot.sys.read_health_status(method="GET")
    assert health["initialized"] is True and health["sealed"] is False, health
    assert bot.sys.read_health_status().status_code == 200

    # AppRole login.
    login = bot.auth.approle.login(role_id=role_id, secret_id=secret_id)
    assert login["auth"]["client_token"].startswith("hvs."), login
    assert login["auth"]["lease_duration"] == 900, login
    assert bot.is_authenticated()

    # KV version 2 writes, versions, check-and-set, patch and list.
    kv = bot.secrets.kv.v2
    first = kv.create_or_update_secret(path="bots/invoice", secret={"pw": "fake-v1"})
    assert first["data"]["version"] == 1, first
    kv.create_or_update_secret(path="bots/invoice", secret={"pw": "fake-v2"}, cas=1)
    err = expect_raises(
        exceptions.InvalidRequest,
        lambda: kv.create_or_update_secret(path="bots/invoice", secret={"pw": "x"}, cas=1),
        "cas mismatch",
    )
    assert "check-and-set" in str(err), err
    current = kv.read_secret_version(path="bots/invoice", raise_on_deleted_version=True)
    assert current["data"]["data"] == {"pw": "fake-v2"}, current
    assert current["data"]["metadata"]["deletion_time"] == ""
    old = kv.read_secret_version(path="bots/invoice", version=1, raise_on_deleted_version=True)
    assert old["data"]["data"] == {"pw": "fake-v1"}, old
    kv.patch(path="bots/invoice", secret={"user": "svc-invoice"})
    patched = kv.read_secret_version(path="bots/invoice", raise_on_deleted_version=True)
    assert patched["data"]["data"] == {"pw": "fake-v2", "user": "svc-invoice"}, patched
    assert kv.list_secrets(path="bots")["data"]["keys"] == ["invoice"]
    metadata = kv.read_secret_metadata(path="bots/invoice")
    assert metadata["data"]["current_version"] == 3, metadata

    # A deleted current version: the metadata comes back only when asked.
    kv.delete_latest_version_of_secret(path="bots/invoice")
    deleted = kv.read_secret_version(path="bots/invoice", raise_on_deleted_version=False)
    assert deleted["data"]["data"] is None, deleted
    assert deleted["data"]["metadata"]["deletion_time"] != "", deleted
    expect_raises(
        exceptions.InvalidPath,
        lambda: kv.read_secret_version(path="bots/invoice", raise_on_deleted_version=True),
        "deleted version",
    )
    kv.destroy_secret_versions(path="bots/invoice", versions=[1])
    expect_raises(
        exceptions.InvalidPath,
        lambda: kv.read_secret_version(path="bots/invoice", version=1, raise_on_deleted_version=False),
        "destroyed, never deleted",
    )

    # Denied and unknown paths.
    expect_raises(
        exceptions.Forbidden,
        lambda: kv.read_secret_version(path="payroll/db", raise_on_deleted_version=True),
        "ungranted path",
    )
    expect_raises(
        exceptions.InvalidPath,
        lambda: kv.read_secret_version(path="bots/nope", raise_on_deleted_version=True),
        "unknown key",
    )
    expect_raises(exceptions.InvalidPath, lambda: kv.list_secrets(path="bots/empty"), "empty folder")

    # Token self-service.
    lookup = bot.auth.token.lookup_self()
    assert lookup["data"]["meta"]["role_name"] == "invoice-bot", lookup
    renewed = bot.auth.token.renew_self(increment="10m")
    assert renewed["auth"]["lease_duration"] == 600, renewed

    # Per-secret-id limits bounded by the role, sent with write_data.
    admin.write_data("auth/approle/role/invoice-bot", data={"secret_id_num_uses": 2, "secret_id_ttl": 600})
    err = expect_raises(
        exceptions.InvalidRequest,
        lambda: admin.write_data("auth/approle/role/invoice-bot/secret-id", data={"num_uses": 3}),
        "num_uses above the role's",
    )
    assert "num_uses cannot be higher" in str(err), err
    one_use = admin.write_data("auth/approle/role/invoice-bot/secret-id", data={"num_uses": 1})
    single = one_use["data"]["secret_id"]
    hvac.Client(url=addr).auth.approle.login(role_id=role_id, secret_id=single)
    expect_raises(
        exceptions.InvalidRequest,
        lambda: hvac.Client(url=addr).auth.approle.login(role_id=role_id, secret_id=single),
        "second login with a one-use secret id",
    )

    # Sealed: reads raise VaultDown; unsealing brings them back.
    admin.sys.seal()
    assert bot.sys.is_sealed() is True
    expect_raises(
        exceptions.VaultDown,
        lambda: kv.read_secret_version(path="bots/invoice", version=2, raise_on_deleted_version=True),
        "sealed read",
    )
    status = admin.sys.submit_unseal_key(key=unseal_key)
    assert status["sealed"] is False, status
    again = kv.read_secret_version(path="bots/invoice", version=2, raise_on_deleted_version=True)
    assert again["data"]["data"] == {"pw": "fake-v2"}, again

    bot.auth.token.revoke_self()
    assert not bot.is_authenticated()
    print("hvac: all checks passed")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as err:
        print(f"hvac check failed: {err}", file=sys.stderr)
        sys.exit(1)
