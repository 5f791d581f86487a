WITH landed AS MATERIALIZED (
  SELECT
    EPOCH_US("timestamp") AS us
  FROM events
)
SELECT
  a.us
FROM landed AS a
JOIN landed AS b
  ON a.us = b.us
