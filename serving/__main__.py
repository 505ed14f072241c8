"""`python -m serving --port=8500 --rest_api_port=8501 ...`: the local server without the CLI."""
import sys

from serving.server.server import main

sys.exit(main())
