-- The Redis peer of a purchase: KEYS[1] is the drop's stock, KEYS[2] the buyer's order.
-- Checks the buyer (one order each), checks stock, decrements it and records the order.
if redis.call('EXISTS', KEYS[2]) == 1 then
  return 0
end
local left = tonumber(redis.call('GET', KEYS[1]))
if left == nil or left < 1 then
  return -1
end
redis.call('DECRBY', KEYS[1], 1)
redis.call('HSET', KEYS[2], 'buyer', ARGV[1], 'quantity', 1, 'state', 'reserved')
return 1
