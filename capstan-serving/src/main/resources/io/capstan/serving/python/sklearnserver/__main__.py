"""python3 -m sklearnserver --model_dir DIR --model_name NAME [--http_port PORT], as KServe's sklearn server."""
import argparse
import sys

from kserve import ModelServer, model_server
from kserve.logging import configure_logging, logger
from sklearnserver.model import SKLearnModel

parser = argparse.ArgumentParser(parents=[model_server.parser])
parser.add_argument("--model_dir", required=True, help="A local path to the model file or folder")
args, _ = parser.parse_known_args()

if __name__ == "__main__":
    configure_logging()
    model = SKLearnModel(args.model_name, args.model_dir)
    try:
        model.load()
    except Exception as e:  # reported on stderr: Capstan puts the last line in the InferenceService's status
        logger.error("failed to load the model: %s", e)
        print("model load failed: %s" % e, file=sys.stderr, flush=True)
        sys.exit(1)
    ModelServer().start([model])
