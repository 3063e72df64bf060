"""Writes iris.parquet (snappy, as pyarrow writes by default) and iris-nulls.parquet from examples/iris/iris.csv.

Run from the repository root with pyarrow installed:
    python3 capstan-monitoring/src/test/resources/reference/make-parquet.py
"""
import pyarrow as pa
import pyarrow.csv as csv
import pyarrow.parquet as pq

out = "capstan-monitoring/src/test/resources/reference/"
table = csv.read_csv("examples/iris/iris.csv")
pq.write_table(table, out + "iris.parquet")
# a column with a null in its third row: refused, naming the row
petal = table.column("petal_length").to_pylist()
petal[2] = None
nulls = table.set_column(table.schema.get_field_index("petal_length"), "petal_length", pa.array(petal, pa.float64()))
pq.write_table(nulls, out + "iris-nulls.parquet", compression="none")
