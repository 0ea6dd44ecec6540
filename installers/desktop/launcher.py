"""PyInstaller's entry script for the desktop program (the same ``main`` as ``ops-desktop``)."""

import sys

from desktop.app import main

if __name__ == "__main__":
    sys.exit(main())
