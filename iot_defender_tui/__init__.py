"""iot-defender-tui: AWS IoT Device Defender Audit and mitigation in the terminal."""

__version__ = "0.1.0"
