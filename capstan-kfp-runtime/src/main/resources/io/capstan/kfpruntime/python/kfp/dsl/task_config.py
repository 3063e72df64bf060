"""Task configuration a component may ask to receive as an input."""
import dataclasses
from typing import Any, Dict, List, Optional


@dataclasses.dataclass
class TaskConfig:
    """Kubernetes-level settings of the running task, as the backend passes them."""
    affinity: Optional[Dict[str, Any]] = None
    tolerations: Optional[List[Dict[str, Any]]] = None
    node_selector: Optional[Dict[str, str]] = None
    env: Optional[List[Dict[str, Any]]] = None
    volumes: Optional[List[Dict[str, Any]]] = None
    volume_mounts: Optional[List[Dict[str, Any]]] = None
    resources: Optional[Dict[str, Any]] = None
