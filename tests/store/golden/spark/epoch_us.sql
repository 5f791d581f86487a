SELECT
  UNIX_MICROS(CAST(`timestamp` AS TIMESTAMP)) AS us,
  UNIX_TIMESTAMP(`timestamp`) AS s
FROM events
