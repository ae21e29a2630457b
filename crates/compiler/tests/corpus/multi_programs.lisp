;; test: prog=first expect=2
;; test: prog=second expect=1
;; test: prog=third expect=3
;; map: shared key=00000000 value=0300000000000000
;; several programs share maps; two share one section name
(defmap shared :type :array :key-size 4 :value-size 8 :max-entries 1)
(defprog first (:type :xdp :section "xdp")
  (incf (getmap shared 0))
  XDP_PASS)
(defprog second (:type :xdp :section "xdp")
  (incf (getmap shared 0))
  XDP_DROP)
(defprog third (:type :xdp :section "xdp" :license "GPL")
  (incf (getmap shared 0))
  XDP_TX)
