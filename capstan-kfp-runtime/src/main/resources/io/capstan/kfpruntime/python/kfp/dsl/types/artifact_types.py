"""Artifact classes handed to component functions.

An artifact carries a ``uri``, a ``name`` and a ``metadata`` dict; ``path`` is
the local file path for the URI: object-store URIs map to the mount prefixes
KFP uses (``gs://`` to ``/gcs/``, ``s3://`` to ``/s3/``, ``minio://`` to
``/minio/``), ``file://`` URIs map to their path, and anything else is already
a path.
"""
import os
from typing import Dict, List, Optional
from urllib.parse import unquote, urlsplit

_REMOTE_TO_LOCAL = (
    ('gs://', '/gcs/'),
    ('minio://', '/minio/'),
    ('s3://', '/s3/'),
)

GCS_REMOTE_PREFIX = 'gs://'
MINIO_REMOTE_PREFIX = 'minio://'
S3_REMOTE_PREFIX = 's3://'


def uri_to_local_path(uri: str) -> str:
    """Returns the local path under which the runtime finds ``uri``."""
    for remote, local in _REMOTE_TO_LOCAL:
        if uri.startswith(remote):
            return local + uri[len(remote):]
    if uri.startswith('file://'):
        parts = urlsplit(uri)
        if parts.netloc not in ('', 'localhost'):
            raise ValueError(f'file URI with a remote host is not a local path: {uri}')
        return unquote(parts.path)
    return uri


def convert_local_path_to_remote_path(path: str) -> str:
    """Inverse of the mount-prefix mapping; other paths stay as they are."""
    for remote, local in _REMOTE_TO_LOCAL:
        if path.startswith(local):
            return remote + path[len(local):]
    return path


class Artifact:
    """A generic artifact: a URI, a name and free-form metadata."""
    schema_title = 'system.Artifact'
    schema_version = '0.0.1'

    def __init__(self,
                 name: Optional[str] = None,
                 uri: Optional[str] = None,
                 metadata: Optional[Dict] = None,
                 custom_path: Optional[str] = None) -> None:
        self.uri = uri or ''
        self.name = name or ''
        self.metadata = metadata or {}
        self.custom_path = custom_path

    @property
    def path(self) -> str:
        return self._get_path()

    @path.setter
    def path(self, path: str) -> None:
        self._set_path(path)

    def set_path(self, path: str) -> None:
        """Makes the component read or write this artifact at ``path``.

        As in KFP 2.14, ``uri`` stays where the pipeline put the artifact; for
        an output, the executor copies what the component wrote at ``path`` to
        the artifact's URI when the function returns."""
        self._set_path(path)

    def _get_path(self) -> str:
        if self.custom_path:
            return self.custom_path
        return uri_to_local_path(self.uri)

    def _set_path(self, path: str) -> None:
        self.custom_path = path

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(name={self.name!r}, uri={self.uri!r}, '
                f'metadata={self.metadata!r})')


class Model(Artifact):
    """A machine learning model."""
    schema_title = 'system.Model'

    @property
    def framework(self) -> str:
        return self.metadata.get('framework', '')

    @framework.setter
    def framework(self, framework: str) -> None:
        self.metadata['framework'] = framework


class Dataset(Artifact):
    """A dataset."""
    schema_title = 'system.Dataset'


class Metrics(Artifact):
    """Scalar metrics, kept in the artifact's metadata."""
    schema_title = 'system.Metrics'

    def log_metric(self, metric: str, value: float) -> None:
        self.metadata[metric] = value


class ClassificationMetrics(Artifact):
    """ROC curve and confusion matrix, kept in the artifact's metadata."""
    schema_title = 'system.ClassificationMetrics'

    def log_roc_data_point(self, fpr: float, tpr: float, threshold: float) -> None:
        self.metadata.setdefault('confidenceMetrics', []).append({
            'confidenceThreshold': threshold,
            'recall': tpr,
            'falsePositiveRate': fpr,
        })

    def log_roc_reading(self, threshold: float, tpr: float, fpr: float) -> None:
        self.log_roc_data_point(fpr=fpr, tpr=tpr, threshold=threshold)

    def load_roc_readings(self, readings: List[List[float]]) -> None:
        """Bulk-loads readings given as ``[threshold, tpr, fpr]`` rows."""
        for reading in readings:
            if len(reading) != 3:
                raise ValueError(
                    f'Invalid ROC reading {reading!r}: want [threshold, tpr, fpr]')
            self.log_roc_reading(reading[0], reading[1], reading[2])

    def log_roc_curve(self, fpr: List[float], tpr: List[float],
                      threshold: List[float]) -> None:
        if len(fpr) != len(tpr) or len(fpr) != len(threshold):
            raise ValueError(
                'Length of fpr, tpr and threshold must be the same. Got lengths '
                f'{len(fpr)}, {len(tpr)} and {len(threshold)} respectively.')
        for i in range(len(fpr)):
            self.log_roc_data_point(fpr=fpr[i], tpr=tpr[i], threshold=threshold[i])

    def set_confusion_matrix_categories(self, categories: List[str]) -> None:
        self._categories = list(categories)
        self._matrix = [{'row': [0] * len(self._categories)} for _ in self._categories]
        self._confusion_matrix = {
            'annotationSpecs': [{'displayName': c} for c in self._categories],
            'rows': self._matrix,
        }
        self.metadata['confusionMatrix'] = self._confusion_matrix

    def _require_category(self, category: str) -> int:
        categories = getattr(self, '_categories', None)
        if categories is None:
            raise ValueError(
                'Call set_confusion_matrix_categories before logging matrix values.')
        if category not in categories:
            raise ValueError(
                f'Invalid category: {category} passed. Expected one of: {categories}')
        return categories.index(category)

    def log_confusion_matrix_row(self, row_category: str, row: List[float]) -> None:
        index = self._require_category(row_category)
        if len(row) != len(self._categories):
            raise ValueError(
                f'Invalid row. Expected size: {len(self._categories)} got: {len(row)}')
        self._matrix[index] = {'row': list(row)}
        self._confusion_matrix['rows'] = self._matrix
        self.metadata['confusionMatrix'] = self._confusion_matrix

    def log_confusion_matrix_cell(self, row_category: str, col_category: str,
                                  value: int) -> None:
        row = self._require_category(row_category)
        col = self._require_category(col_category)
        self._matrix[row]['row'][col] = value
        self.metadata['confusionMatrix'] = self._confusion_matrix

    def log_confusion_matrix(self, categories: List[str],
                             matrix: List[List[int]]) -> None:
        self.set_confusion_matrix_categories(categories)
        if len(matrix) != len(categories):
            raise ValueError(
                f'Invalid matrix: {matrix} passed for categories: {categories}')
        for index, category in enumerate(categories):
            if len(matrix[index]) != len(categories):
                raise ValueError(
                    f'Invalid matrix: {matrix} passed for categories: {categories}')
            self.log_confusion_matrix_row(category, matrix[index])
        self.metadata['confusionMatrix'] = self._confusion_matrix


class SlicedClassificationMetrics(Artifact):
    """Classification metrics per slice, kept in the artifact's metadata."""
    schema_title = 'system.SlicedClassificationMetrics'

    def _slice(self, slice: str) -> ClassificationMetrics:
        sliced = self.__dict__.setdefault('_sliced_metrics', {})
        if slice not in sliced:
            sliced[slice] = ClassificationMetrics()
        return sliced[slice]

    def _update_metadata(self) -> None:
        self.metadata = {'evaluationSlices': [{
            'slice': name,
            'sliceClassificationMetrics': metrics.metadata,
        } for name, metrics in self._sliced_metrics.items()]}

    def log_roc_reading(self, slice: str, threshold: float, tpr: float,
                        fpr: float) -> None:
        self._slice(slice).log_roc_reading(threshold, tpr, fpr)
        self._update_metadata()

    def load_roc_readings(self, slice: str, readings: List[List[float]]) -> None:
        self._slice(slice).load_roc_readings(readings)
        self._update_metadata()

    def set_confusion_matrix_categories(self, slice: str,
                                        categories: List[str]) -> None:
        self._slice(slice).set_confusion_matrix_categories(categories)
        self._update_metadata()

    def log_confusion_matrix_row(self, slice: str, row_category: str,
                                 row: List[int]) -> None:
        self._slice(slice).log_confusion_matrix_row(row_category, row)
        self._update_metadata()

    def log_confusion_matrix_cell(self, slice: str, row_category: str,
                                  col_category: str, value: int) -> None:
        self._slice(slice).log_confusion_matrix_cell(row_category, col_category, value)
        self._update_metadata()

    def load_confusion_matrix(self, slice: str, categories: List[str],
                              matrix: List[List[int]]) -> None:
        self._slice(slice).log_confusion_matrix(categories, matrix)
        self._update_metadata()


class HTML(Artifact):
    """An HTML file."""
    schema_title = 'system.HTML'


class Markdown(Artifact):
    """A Markdown file."""
    schema_title = 'system.Markdown'


_SCHEMA_TITLE_TO_TYPE = {
    cls.schema_title: cls for cls in (
        Artifact, Model, Dataset, Metrics, ClassificationMetrics,
        SlicedClassificationMetrics, HTML, Markdown)
}

# Set by the executor to the folder of the executor output file.
CONTAINER_TASK_ROOT: Optional[str] = None


def get_uri(suffix: str = 'Output') -> str:
    """Returns a URI under the running task's root, for artifacts a component
    creates and returns itself."""
    if CONTAINER_TASK_ROOT is None:
        raise RuntimeError(
            "'dsl.get_uri' can only be called at task runtime. The task root is "
            'unknown in the current environment.')
    return os.path.join(convert_local_path_to_remote_path(CONTAINER_TASK_ROOT), suffix)
