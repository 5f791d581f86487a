SELECT
  EPOCH_US("timestamp") AS us,
  EPOCH("timestamp") AS s
FROM events
