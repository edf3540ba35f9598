// Drag to move the leader's box on the signing page's outline (docs/console.md, "Drag to move"):
// one small inline script, allowed by its hash on that page alone, that writes the box's new
// place into the form's `rect.<id>` field as `x,y,w,h` in points — the `rect` of the document's
// metadata and of `gatewayd sign --rect`. Without JavaScript the field stays empty and the
// document's own `rect`, else the preset, applies.
import Crypto
import Foundation
import GatewayCore
import HTTPTypes
import Hummingbird

enum SigningDrag {
    /// The seal follows the leader's box (it goes over its left third); positions are read from
    /// the outline's size, so the phone's narrow sheet gives the same points as a desktop's.
    static let script = """
        (function(){document.querySelectorAll('.paper[data-doc]').forEach(function(paper){
        var leader=paper.querySelector('.box.leader'),seal=paper.querySelector('.box.seal'),field=document.getElementById('rect.'+paper.dataset.doc);
        if(!leader||!field)return;var box=paper.dataset.box.split(',').map(Number),rect=leader.dataset.rect.split(',').map(Number);
        var pw=box[2]-box[0],ph=box[3]-box[1],start=null;leader.classList.add('drag');leader.title+=' — kéo để di chuyển / drag to move';
        leader.addEventListener('pointerdown',function(e){start={x:e.clientX,y:e.clientY,l:leader.offsetLeft,t:leader.offsetTop,
        sl:seal?seal.offsetLeft:0,st:seal?seal.offsetTop:0};leader.setPointerCapture(e.pointerId);e.preventDefault();});
        leader.addEventListener('pointermove',function(e){if(!start)return;var W=paper.clientWidth,H=paper.clientHeight;
        var l=Math.min(Math.max(start.l+e.clientX-start.x,0),W-leader.offsetWidth),t=Math.min(Math.max(start.t+e.clientY-start.y,0),H-leader.offsetHeight);
        leader.style.left=(l/W*100)+'%';leader.style.top=(t/H*100)+'%';
        if(seal){seal.style.left=((start.sl+l-start.l)/W*100)+'%';seal.style.top=((start.st+t-start.t)/H*100)+'%';}
        field.value=[box[0]+l/W*pw,box[1]+ph-t/H*ph-rect[3],rect[2],rect[3]].map(function(v){return Math.round(v*10)/10;}).join(',');});
        function end(){start=null;}leader.addEventListener('pointerup',end);leader.addEventListener('pointercancel',end);});})();
        """

    /// The pages' policy, with this one script allowed by its SHA-256 (no other script may run).
    static let contentSecurityPolicy: String = {
        let hash = Data(SHA256.hash(data: Data(script.utf8))).base64EncodedString()
        return (ConsoleServer.securityHeaders[.contentSecurityPolicy] ?? "") + "; script-src 'sha256-\(hash)'"
    }()

    static var element: HTML { "<script>\(HTML(raw: script))</script>" }

    /// `x,y,w,h` in points, inside `box` ([llx lly urx ury], half a point of rounding allowed).
    static func rect(_ text: String, inside box: [Double]) -> [Double]? {
        let numbers = text.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard numbers.count == 4, box.count == 4, numbers.allSatisfy(\.isFinite), numbers[2] > 0, numbers[3] > 0,
              numbers[0] >= box[0] - 0.5, numbers[1] >= box[1] - 0.5, numbers[0] + numbers[2] <= box[2] + 0.5, numbers[1] + numbers[3] <= box[3] + 0.5
        else { return nil }
        return numbers
    }
}

extension ConsoleServer {
    /// The leader's dragged boxes, kept on their documents before the session signs them (each
    /// audited `place`); a box that is not inside its page refuses the whole form, nothing moved.
    func placeDraggedBoxes(_ visit: Visit, _ documents: [DocumentID], _ signing: SigningDesk, _ stage: SigningStage) throws -> String? {
        var moves: [(DocumentID, [Double])] = []
        for id in documents {
            guard let text = visit.form["rect.\(id)"], !text.isEmpty, let record = try signing.store.document(id) else { continue }
            guard let box = stage.preview(record)?.box, let rect = SigningDrag.rect(text, inside: box) else {
                return Self.word(visit, "Vị trí chữ ký nằm ngoài trang; hãy kéo lại.", "The signature's place is outside the page; drag it again.")
            }
            if rect != record.metadata.rect { moves.append((id, rect)) }
        }
        for (id, rect) in moves {
            try signing.store.place(id, rect: rect)
            try audit(visit, "place", subject: id.description, detail: rect.map { String(format: "%.1f", $0) }.joined(separator: ","))
        }
        return nil
    }
}
