SELECT
  TRANSFORM(
    FROM_JSON(GET_JSON_OBJECT(properties, '$.products'), 'ARRAY<STRING>'),
    json_element -> GET_JSON_OBJECT(json_element, '$.sku')
  ) AS skus,
  FROM_JSON(GET_JSON_OBJECT(properties, '$.products'), 'ARRAY<STRING>') AS products
FROM events
