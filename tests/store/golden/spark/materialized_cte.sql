WITH landed AS (
  SELECT
    UNIX_MICROS(CAST(`timestamp` AS TIMESTAMP)) AS us
  FROM events
)
SELECT
  a.us
FROM landed AS a
JOIN landed AS b
  ON a.us = b.us
