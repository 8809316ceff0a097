"""MQTT broker accounts and ACL (one source of truth), rendered for Mosquitto or run embedded (amqtt)."""

from vakt.broker.accounts import BrokerAccounts, DeviceAccount, hash_password, verify_password

__all__ = ["BrokerAccounts", "DeviceAccount", "hash_password", "verify_password"]
