"""Deploy the marketplace: a thin wrapper over ``smainer deploy`` (see its --help).

    .venv/bin/python scripts/deploy.py --network devnet
    SMAINER_SEPOLIA_RPC_URL=... SMAINER_ACCOUNT_ADDRESS=0x... SMAINER_KEYSTORE=key.json \\
        .venv/bin/python scripts/deploy.py --network sepolia \\
        --scarb-target scarb-project/target/dev
"""

import sys

from smainer.cli import main

if __name__ == "__main__":
    sys.exit(main(["deploy", *sys.argv[1:]]))
