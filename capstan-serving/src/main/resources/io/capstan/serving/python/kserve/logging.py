"""kserve.logging: the logger KServe's samples use."""
import logging as _logging
import sys

KSERVE_LOGGER_NAME = "kserve"
logger = _logging.getLogger(KSERVE_LOGGER_NAME)


def configure_logging(log_config=None):
    if not logger.handlers:
        handler = _logging.StreamHandler(sys.stderr)
        handler.setFormatter(_logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(_logging.INFO)
