"""The status an exit handler's task receives about the pipeline it guards."""
import dataclasses
from typing import Optional


@dataclasses.dataclass
class PipelineTaskFinalStatus:
    """Final status of the guarded pipeline task (for ``dsl.ExitHandler``).

    ``state`` is the producer's state as KFP's backend reports it: ``COMPLETE``,
    ``FAILED``, ``CANCELED`` or ``CACHED``. ``error_code`` and
    ``error_message`` are ``None`` unless it failed or was cancelled."""
    state: str
    pipeline_job_resource_name: str
    pipeline_task_name: str
    error_code: Optional[int]
    error_message: Optional[str]
