;; test: prog=sized data=00000000000000000000000008000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000 expect=64
;; map: sizes key=00000000 value=4000000000000000
;; a context field read after helper calls that cannot change it (the context is only loaded):
;; the load moves before the calls, and reads the same length
(defmap sizes :type :array :key-size 4 :value-size 8 :max-entries 1)
(defprog sized (:type :tc)
  (incf (getmap sizes 0) (ctx len))
  (ctx len))
