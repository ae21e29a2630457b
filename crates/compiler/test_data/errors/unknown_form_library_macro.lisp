;; suggestions include the standard macro library's names
(defprog p (:type :xdp)
  (with-tpc (data data-end tcp) (tcp-dst-port tcp)))
