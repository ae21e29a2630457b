;;; A tc classifier in the spirit of Whistler's tc-classifier example: TCP packets entering an
;;; interface, counted by class of destination port (web, other), and packets to a blocked
;;; port dropped, from a definitions file that `whistler run --target` attaches.
;; run: --target classify-ports=lo
;; netns: yes
;; workload: curl -s -m 1 http://127.0.0.1:80/; curl -s -m 1 http://127.0.0.1:7/; curl -s -m 3 http://127.0.0.1:9/; true
;; expect-map: port-classes 0 >= 1
;; expect-map: port-classes 1 >= 1
;; expect-map: port-classes 2 >= 2

(defmap port-classes :type :array :key-size 4 :value-size 8 :max-entries 3)

(defconstant +web+ 0)
(defconstant +other+ 1)
(defconstant +blocked+ 2)
(defconstant +blocked-port+ 9)

(defprog classify-ports (:type :tc :section "tc" :license "GPL")
  (let ((data (ctx data)) (data-end (ctx data-end)))
    (when (> (+ data 38) data-end)
      (return TC_ACT_OK))
    (when (or (/= (eth-type data) #x0800)
              (/= (ipv4-protocol (+ data 14)) 6))
      (return TC_ACT_OK))
    (let ((port (tcp-dst-port (+ data 34))))
      (cond ((= port +blocked-port+)
             (incf (getmap port-classes +blocked+))
             (return TC_ACT_SHOT))
            ((or (= port 80) (= port 443))
             (incf (getmap port-classes +web+)))
            (t (incf (getmap port-classes +other+))))))
  TC_ACT_OK)
