import BBCSCore
import BBCSProtocol

extension MethodTable {
    mutating func registerSiteHandlers(_ stores: Stores) {
        register(SiteBuildRequest.self) { r, _ in
            if r.files == true {
                let build = try await stores.site.build()
                return .init(pages: build.pages, bytes: build.bytes, directory: nil, files: build.files)
            }
            guard let directory = stores.site.directory else {
                throw StoreError.invalid(param: "files", "the daemon keeps no site: set site_dir, or build one to a folder of your own (bbcsctl site build --out DIR)")
            }
            do {
                let build = try await stores.site.write(to: directory)
                return .init(pages: build.pages, bytes: build.bytes, directory: directory, files: nil)
            } catch let refused as SiteFolder.Refused {
                // site_dir does not fit what the daemon may do there: the caller is told why.
                throw StoreError.conflict(refused.description, hint: nil)
            }
        }
    }
}
