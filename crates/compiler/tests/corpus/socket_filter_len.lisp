;; test: prog=filt data=00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000 expect=100
;; socket filters return how many bytes to keep; (ctx len) is the packet length
(defprog filt (:type :socket-filter)
  (if (>= (ctx len) 40) 100 0))
