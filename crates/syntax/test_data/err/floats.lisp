(sleep 0.5)
(x 1/2 1e3 .5)
