"""``python -m atlas_xl_cli``: the atlas-xl command."""
import sys

from atlas_xl_cli.parser import main

sys.exit(main())
