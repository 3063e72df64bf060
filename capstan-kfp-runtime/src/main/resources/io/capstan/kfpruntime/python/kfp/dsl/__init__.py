"""The ``kfp.dsl`` names a compiled lightweight component uses at run time."""
from kfp.dsl.component_decorator import component
from kfp.dsl.component_decorator import container_component
from kfp.dsl.component_decorator import notebook_component
from kfp.dsl.component_decorator import pipeline
from kfp.dsl.placeholders import ConcatPlaceholder
from kfp.dsl.placeholders import ContainerSpec
from kfp.dsl.placeholders import IfPresentPlaceholder
from kfp.dsl.task_config import TaskConfig
from kfp.dsl.task_final_status import PipelineTaskFinalStatus
from kfp.dsl.types.artifact_types import HTML
from kfp.dsl.types.artifact_types import Artifact
from kfp.dsl.types.artifact_types import ClassificationMetrics
from kfp.dsl.types.artifact_types import Dataset
from kfp.dsl.types.artifact_types import Markdown
from kfp.dsl.types.artifact_types import Metrics
from kfp.dsl.types.artifact_types import Model
from kfp.dsl.types.artifact_types import SlicedClassificationMetrics
from kfp.dsl.types.artifact_types import get_uri
from kfp.dsl.types.type_annotations import EmbeddedInput
from kfp.dsl.types.type_annotations import Input
from kfp.dsl.types.type_annotations import InputPath
from kfp.dsl.types.type_annotations import Output
from kfp.dsl.types.type_annotations import OutputPath

# Placeholders the backend substitutes in pipeline definitions.
PIPELINE_JOB_NAME_PLACEHOLDER = '{{$.pipeline_job_name}}'
PIPELINE_JOB_RESOURCE_NAME_PLACEHOLDER = '{{$.pipeline_job_resource_name}}'
PIPELINE_JOB_ID_PLACEHOLDER = '{{$.pipeline_job_uuid}}'
PIPELINE_TASK_NAME_PLACEHOLDER = '{{$.pipeline_task_name}}'
PIPELINE_TASK_ID_PLACEHOLDER = '{{$.pipeline_task_uuid}}'
PIPELINE_TASK_EXECUTOR_OUTPUT_PATH_PLACEHOLDER = '{{$.outputs.output_file}}'
PIPELINE_TASK_EXECUTOR_INPUT_PLACEHOLDER = '{{$}}'
PIPELINE_ROOT_PLACEHOLDER = '{{$.pipeline_root}}'
PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER = '{{$.pipeline_job_create_time_utc}}'
PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER = '{{$.pipeline_job_schedule_time_utc}}'
WORKSPACE_PATH_PLACEHOLDER = '{{$.workspace_path}}'

__all__ = [
    'component', 'container_component', 'notebook_component', 'pipeline',
    'ConcatPlaceholder', 'ContainerSpec', 'IfPresentPlaceholder',
    'TaskConfig', 'PipelineTaskFinalStatus',
    'Artifact', 'ClassificationMetrics', 'Dataset', 'HTML', 'Markdown',
    'Metrics', 'Model', 'SlicedClassificationMetrics', 'get_uri',
    'Input', 'Output', 'InputPath', 'OutputPath', 'EmbeddedInput',
    'PIPELINE_JOB_NAME_PLACEHOLDER', 'PIPELINE_JOB_RESOURCE_NAME_PLACEHOLDER',
    'PIPELINE_JOB_ID_PLACEHOLDER', 'PIPELINE_TASK_NAME_PLACEHOLDER',
    'PIPELINE_TASK_ID_PLACEHOLDER', 'PIPELINE_TASK_EXECUTOR_OUTPUT_PATH_PLACEHOLDER',
    'PIPELINE_TASK_EXECUTOR_INPUT_PLACEHOLDER', 'PIPELINE_ROOT_PLACEHOLDER',
    'PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER',
    'PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER', 'WORKSPACE_PATH_PLACEHOLDER',
]
