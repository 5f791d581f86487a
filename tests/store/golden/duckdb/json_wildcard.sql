SELECT
  properties ->> '$.products[*].sku' AS skus,
  properties ->> '$.products[*]' AS products
FROM events
