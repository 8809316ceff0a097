"""vakt: self-hosted home security with faithful device emulators."""

__version__ = "0.1.0"
