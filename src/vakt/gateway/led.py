"""The gateway's LED ring, function button and network set-up (G1, G2, G3) as a pure clocked state machine.

Power-on: solid orange while booting, then fast-flashing white = network set-up mode (G1) until a
network is given: a cable in the router's LAN port, or Wi-Fi credentials from the app's QR step (G2).
With a network it connects to the broker (slow-flashing white), then shows solid white = online
(chosen). Holding the function button more than 4 s plays a voice prompt and takes the gateway
offline, forgetting its Wi-Fi, so it can join another network (G3).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

BOOT_SECONDS = 2.0  # (chosen) how long the ring stays solid orange after power-on
RESET_HOLD_SECONDS = 4.0  # G3


class LedPattern(StrEnum):
    OFF = "off"
    SOLID_ORANGE = "solid_orange"  # booting (G1)
    FAST_FLASHING_WHITE = "fast_flashing_white"  # network set-up mode (G1)
    SLOW_FLASHING_WHITE = "slow_flashing_white"  # (chosen) network given, reaching the hub
    SOLID_WHITE = "solid_white"  # (chosen) online
    SLOW_FLASHING_ORANGE = "slow_flashing_orange"  # (chosen) was online, hub/broker unreachable


class GatewayPhase(StrEnum):
    OFF = "off"
    BOOTING = "booting"
    SETUP = "setup"
    CONNECTING = "connecting"
    ONLINE = "online"
    DISCONNECTED = "disconnected"


class NetworkConfig(BaseModel):
    """What the gateway remembers about its network (persisted in its data folder)."""

    wired: bool = False
    wifi_ssid: str | None = Field(None, min_length=1, max_length=32)

    @property
    def configured(self) -> bool:
        return self.wired or self.wifi_ssid is not None


class VoicePrompt(StrEnum):
    NETWORK_RESET = "network_reset"  # G3: the prompt heard after holding the button > 4 s


class GatewayPanel:
    """LED ring + function button + network set-up; time moves only through the ``now`` arguments."""

    def __init__(self, network: NetworkConfig | None = None, boot_seconds: float = BOOT_SECONDS) -> None:
        self.network = network or NetworkConfig()
        self.boot_seconds = boot_seconds
        self.phase = GatewayPhase.OFF
        self._booted_at = 0.0
        self._button_down_at: float | None = None
        self.prompts: list[VoicePrompt] = []
        self._broker_connected = False

    @property
    def led(self) -> LedPattern:
        return {
            GatewayPhase.OFF: LedPattern.OFF,
            GatewayPhase.BOOTING: LedPattern.SOLID_ORANGE,
            GatewayPhase.SETUP: LedPattern.FAST_FLASHING_WHITE,
            GatewayPhase.CONNECTING: LedPattern.SLOW_FLASHING_WHITE,
            GatewayPhase.ONLINE: LedPattern.SOLID_WHITE,
            GatewayPhase.DISCONNECTED: LedPattern.SLOW_FLASHING_ORANGE,
        }[self.phase]

    @property
    def network_up(self) -> bool:
        """Whether the gateway has a network and should talk to the broker."""
        return self.phase in (GatewayPhase.CONNECTING, GatewayPhase.ONLINE, GatewayPhase.DISCONNECTED)

    def power_on(self, now: float) -> None:
        self.phase = GatewayPhase.BOOTING
        self._booted_at = now

    def tick(self, now: float) -> None:
        if self.phase is GatewayPhase.BOOTING and now - self._booted_at >= self.boot_seconds:
            self.phase = GatewayPhase.SETUP
            self._after_network_change()
        if self._button_down_at is not None and now - self._button_down_at > RESET_HOLD_SECONDS:
            self._button_down_at = None
            self._network_reset()

    def plug_cable(self) -> None:
        """G2: a cable into the router's LAN port (recommended)."""
        self.network = self.network.model_copy(update={"wired": True})
        self._after_network_change()

    def unplug_cable(self) -> None:
        self.network = self.network.model_copy(update={"wired": False})
        self._after_network_change()

    def configure_wifi(self, ssid: str, password: str) -> None:
        """G2: Wi-Fi credentials given by the app after scanning the QR code under the gateway."""
        if not 8 <= len(password) <= 63:
            raise ValueError("Wi-Fi password must have 8 to 63 characters (WPA2)")
        self.network = NetworkConfig(wired=self.network.wired, wifi_ssid=ssid)
        self._after_network_change()

    def button_down(self, now: float) -> None:
        self._button_down_at = now

    def button_up(self, now: float) -> None:
        down, self._button_down_at = self._button_down_at, None
        if down is not None and now - down > RESET_HOLD_SECONDS:
            self._network_reset()

    def broker_connected(self, connected: bool) -> None:
        self._broker_connected = connected
        if self.network_up:
            if connected:
                self.phase = GatewayPhase.ONLINE
            elif self.phase is GatewayPhase.ONLINE:
                self.phase = GatewayPhase.DISCONNECTED

    def _network_reset(self) -> None:
        self.prompts.append(VoicePrompt.NETWORK_RESET)
        self.network = NetworkConfig()  # G3: offline until set up again
        self._after_network_change()

    def _after_network_change(self) -> None:
        if self.phase in (GatewayPhase.OFF, GatewayPhase.BOOTING):
            return
        if not self.network.configured:
            self.phase = GatewayPhase.SETUP
        elif self.phase is GatewayPhase.SETUP:
            self.phase = GatewayPhase.ONLINE if self._broker_connected else GatewayPhase.CONNECTING
