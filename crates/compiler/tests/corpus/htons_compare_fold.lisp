;; test: prog=p data=00000000000000000000000086dd0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000 expect=1
(defprog p (:type :xdp)
  (let ((data (xdp-data)) (data-end (xdp-data-end)))
    (when (> (+ data 14) data-end) (return 0))
    (if (= (load u16 data 12) (htons ETH_P_IPV6)) 1 2)))
