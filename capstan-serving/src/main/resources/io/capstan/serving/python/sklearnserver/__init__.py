from sklearnserver.model import SKLearnModel  # noqa: F401
