;;; Packets dispatched by IP protocol through a program array, in the spirit of Whistler's
;;; tail-call example: the session puts a TCP and a UDP handler into the slots of their
;;; protocol numbers, each handler counts what reaches it, and packets of a protocol whose slot
;;; is empty (the ICMP errors the UDP probe draws) fall through to the dispatcher's own count.
;; run:
;; netns: yes
;; expect: tcp handler: T
;; expect: udp handler: T
;; expect: fell through for other protocols: T
;; expect: empty slot 6 after removal: T

(defconstant +fell-through+ 0)
(defconstant +tcp+ 1)
(defconstant +udp+ 2)

(with-bpf-session ()
  (bpf:map handlers :type :prog-array :max-entries 256)
  (bpf:map handled :type :array :key-size 4 :value-size 8 :max-entries 3)

  (bpf:prog dispatch (:type :xdp :section "xdp" :license "GPL")
    (with-ipv4 (data data-end ip)
      (tail-call handlers (ipv4-protocol ip))
      (incf (getmap handled +fell-through+)))
    XDP_PASS)

  (bpf:prog on-tcp (:type :xdp :section "xdp" :license "GPL")
    (incf (getmap handled +tcp+))
    XDP_PASS)

  (bpf:prog on-udp (:type :xdp :section "xdp" :license "GPL")
    (incf (getmap handled +udp+))
    XDP_PASS)

  ;; A slot holds the handler program's file descriptor.
  (map-update-int handlers 6 (prog-info-fd (bpf-session-prog 'on-tcp)))
  (map-update-int handlers 17 (prog-info-fd (bpf-session-prog 'on-udp)))
  (bpf:attach dispatch "lo")

  (flet ((probe (url)
           (sb-ext:run-program "/usr/bin/curl" (list "-s" "-m" "1" url) :output nil :error nil))
         (seen (slot) (bpf:map-ref handled slot)))
    ;; A TCP connection refused (SYN, RST) and a TFTP request over UDP, which the closed port
    ;; answers with an ICMP port-unreachable error.
    (probe "http://127.0.0.1:9/")
    (probe "tftp://127.0.0.1:9/none")
    (format t "tcp handler: ~a~%" (>= (seen +tcp+) 2))
    (format t "udp handler: ~a~%" (>= (seen +udp+) 1))
    (format t "fell through for other protocols: ~a~%" (>= (seen +fell-through+) 1))
    ;; With its slot emptied, TCP falls through too.
    (map-delete-int handlers 6)
    (let ((before (seen +fell-through+)))
      (probe "http://127.0.0.1:9/")
      (format t "empty slot 6 after removal: ~a~%" (>= (seen +fell-through+) (+ before 2))))))
